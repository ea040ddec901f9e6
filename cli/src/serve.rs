//! `glucolens serve`: every HTTP function's router behind one local server, dispatched by the same route table
//! API Gateway uses, so a request reaches exactly the handler it would reach on AWS.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::extract::Request;
use axum::http::Method;
use axum::routing::{on_service, MethodFilter, MethodRouter};
use axum::Router;
use glucolens_core::http::ApiError;
use glucolens_core::routes::{Function, ROUTES};
use glucolens_core::AppState;
use tower::ServiceExt;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let state = AppState::from_env().await?;
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "serving the API");
    // Plays the SQS event source mapping: analysis messages are processed while the API serves.
    let poller = tokio::spawn(crate::worker_poll::run(state.clone()));
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    poller.abort();
    Ok(())
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
    };
    let mut by_path: BTreeMap<&str, MethodRouter> = BTreeMap::new();
    for route in ROUTES {
        let method = Method::from_bytes(route.method.as_bytes()).expect("route table methods are valid");
        let filter = MethodFilter::try_from(method).expect("route table methods are filterable");
        // The outer router has already captured path parameters into the request's extensions; the function's own
        // router captures them again, so hand it the request as API Gateway would: without the outer captures.
        let function = function_router(route.function).map_request(|mut request: Request| {
            request.extensions_mut().clear();
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
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}
