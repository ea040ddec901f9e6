//! `glucolens serve`: every HTTP function's router behind one local server, dispatched by the same route table
//! API Gateway uses, so a request reaches exactly the handler it would reach on AWS.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::http::Method;
use axum::routing::{on_service, MethodFilter, MethodRouter};
use axum::Router;
use glucolens_aws::config::Config;
use glucolens_web::routes::{Function, ROUTES};
use glucolens_web::AppState;
use glucolens_web::{layers, ApiError};
use tower::ServiceExt;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let aws = aws_config::load_from_env().await;
    let state = AppState::from_config(&config, &aws).await?;
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "serving the API");
    // Plays the SQS event source mapping: analysis messages are processed while the API serves.
    let poller = tokio::spawn(crate::worker_poll::run(state.clone()));
    let keeper = match &config.aws_endpoint_url {
        Some(_) => Some(tokio::spawn(emulator_resources(&config, &aws, &state).await?.keep())),
        None => None,
    };
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    poller.abort();
    if let Some(keeper) = keeper {
        keeper.abort();
    }
    Ok(())
}

/// What a local emulator must keep holding while this server runs (see [`crate::emulator`]).
async fn emulator_resources(
    config: &Config,
    aws: &aws_config::SdkConfig,
    state: &AppState,
) -> anyhow::Result<crate::emulator::Resources> {
    let secrets = aws_sdk_secretsmanager::Client::new(aws);
    let signing_key = glucolens_aws::secrets::read(&secrets, &config.signing_key_secret_id).await?;
    Ok(crate::emulator::Resources {
        secrets,
        signing_key_id: config.signing_key_secret_id.clone(),
        signing_key,
        queue: state.queue.clone(),
        bucket: glucolens_aws::storage::UploadBucket::from_env().await?,
    })
}

/// The whole API as one router.
pub fn router(state: AppState) -> Router {
    let function_router = |function: Function| match function {
        Function::Auth => api_auth::router(state.clone()),
        Function::Ingestion => api_ingestion::router(state.clone()),
        Function::Retrieval => api_retrieval::router(state.clone()),
        Function::Insights => api_insights::router(state.clone()),
        Function::Tasks => api_tasks::router(state.clone()),
        Function::Docs => api_docs::router(state.clone()),
        Function::Nightscout => api_nightscout::router(state.clone()),
        Function::Imports => api_imports::router(state.clone()),
        Function::Reports => api_reports::router(state.clone()),
    };
    let mut by_path: BTreeMap<&str, MethodRouter> = BTreeMap::new();
    for route in ROUTES {
        let method = Method::from_bytes(route.method.as_bytes()).expect("route table methods are valid");
        let filter = MethodFilter::try_from(method).expect("route table methods are filterable");
        // The outer router has already captured path parameters into the request's extensions; the function's own
        // router captures them again, so hand it the request as API Gateway would: without the outer captures.
        let function = function_router(route.function).map_request(|mut request: Request| {
            // The client's address (for per-client limits) is the one extension that must pass through.
            let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().copied();
            request.extensions_mut().clear();
            if let Some(peer) = peer {
                request.extensions_mut().insert(peer);
            }
            request
        });
        let service = on_service(filter, function);
        let merged = match by_path.remove(route.path) {
            Some(existing) => existing.merge(service),
            None => service,
        };
        by_path.insert(route.path, merged);
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| router.route(path, methods))
        .fallback(|| async { ApiError::NotFound })
        // An unknown method on a known path is answered here, before any function: a problem document too.
        .layer(axum::middleware::from_fn(layers::problem_for_bare_errors))
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}
