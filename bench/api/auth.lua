-- wrk script: every request carries the benchmark user's access token (from the environment).
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
