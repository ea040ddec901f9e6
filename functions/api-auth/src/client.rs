//! Per-client throttling of the unauthenticated account routes (registration and sign-in).
//!
//! ## Who the client is (trust model)
//! - **On Lambda** the address is API Gateway's `requestContext.http.sourceIp`: the peer of the TCP connection that
//!   reached API Gateway, which a client cannot choose. Headers are ignored there, `X-Forwarded-For` included.
//! - **Under a local server** the socket's peer address, when the server records it (axum `ConnectInfo`).
//! - **Otherwise** the *last* hop of `X-Forwarded-For`, i.e. the address the nearest proxy saw. That is only
//!   trustworthy behind exactly one proxy that appends to the header; a client talking to the server directly can
//!   name any bucket it likes. With none of these the request counts in one shared `unknown` bucket, which
//!   throttles every such client together (safe, not fair).
//!
//! IPv6 addresses count by their /64 prefix (one subscriber typically holds a whole /64), and buckets hold the
//! SHA-256 of the address, never the address in clear.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use glucolens_store::rate_limit;
use glucolens_web::ApiError;
use glucolens_web::AppState;
use sha2::{Digest, Sha256};

/// The client's address as the rate limit sees it (see the module documentation), or `None` when unknown.
pub fn client_address(parts: &Parts) -> Option<IpAddr> {
    use lambda_http::request::RequestContext;
    if let Some(context) = parts.extensions.get::<RequestContext>() {
        // Behind API Gateway only its own view counts; a missing source address is unknown, not a header's say.
        return match context {
            RequestContext::ApiGatewayV2(context) => context.http.source_ip.as_deref().and_then(parse_ip),
            #[allow(unreachable_patterns)]
            _ => None,
        };
    }
    if let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        return Some(peer.ip());
    }
    parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(parse_ip)
}

fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The rate-limit bucket of a client: `auth-client:` and the SHA-256 of its address (IPv6 by /64 prefix).
pub fn bucket(address: Option<IpAddr>) -> String {
    let key = match address.map(|ip| ip.to_canonical()) {
        None => "unknown".to_owned(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            format!("{}/64", std::net::Ipv6Addr::from(segments))
        }
    };
    format!("auth-client:{}", hex::encode(Sha256::digest(key.as_bytes())))
}

/// One registration or sign-in attempt, counted against the client's limit before the body is even read, so
/// malformed and invalid attempts count too. Over the limit: 429 with `Retry-After`.
pub struct AuthAttempt;

impl FromRequestParts<AppState> for AuthAttempt {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let bucket = bucket(client_address(parts));
        match rate_limit::hit_limited(&state.db, &bucket, state.auth_attempts_per_client_per_minute).await? {
            None => Ok(AuthAttempt),
            Some(retry_after_secs) => Err(ApiError::RateLimited { retry_after_secs }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(build: impl FnOnce(axum::http::request::Builder) -> axum::http::request::Builder) -> Parts {
        build(axum::http::Request::builder()).body(()).unwrap().into_parts().0
    }

    #[test]
    fn the_client_is_the_gateway_source_then_the_peer_then_the_last_forwarded_hop() {
        use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
        use lambda_http::request::RequestContext;

        let mut gateway = ApiGatewayV2httpRequestContext::default();
        gateway.http.source_ip = Some("203.0.113.7".into());
        let mut behind_gateway = parts(|b| b.header("x-forwarded-for", "198.51.100.1"));
        behind_gateway.extensions.insert(RequestContext::ApiGatewayV2(gateway));
        assert_eq!(client_address(&behind_gateway), "203.0.113.7".parse().ok());

        let mut gateway_without_source = parts(|b| b.header("x-forwarded-for", "198.51.100.1"));
        gateway_without_source
            .extensions
            .insert(RequestContext::ApiGatewayV2(ApiGatewayV2httpRequestContext::default()));
        assert_eq!(
            client_address(&gateway_without_source),
            None,
            "headers never count behind the gateway"
        );

        let mut peer = parts(|b| b.header("x-forwarded-for", "198.51.100.1"));
        peer.extensions
            .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 9], 4242))));
        assert_eq!(client_address(&peer), "192.0.2.9".parse().ok());

        let forwarded = parts(|b| b.header("x-forwarded-for", "1.2.3.4, 198.51.100.1 "));
        assert_eq!(client_address(&forwarded), "198.51.100.1".parse().ok());
        let garbage = parts(|b| b.header("x-forwarded-for", "1.2.3.4, not-an-ip"));
        assert_eq!(client_address(&garbage), None);
        assert_eq!(client_address(&parts(|b| b)), None);
    }

    #[test]
    fn buckets_hide_the_address_and_group_ipv6_by_prefix() {
        let v4 = bucket("203.0.113.7".parse().ok());
        assert!(v4.starts_with("auth-client:") && !v4.contains("203.0"));
        assert_eq!(v4, bucket("::ffff:203.0.113.7".parse().ok()));
        assert_eq!(
            bucket("2001:db8:1:2:aaaa::1".parse().ok()),
            bucket("2001:db8:1:2:bbbb::2".parse().ok())
        );
        assert_ne!(
            bucket("2001:db8:1:2::1".parse().ok()),
            bucket("2001:db8:1:3::1".parse().ok())
        );
        assert_ne!(bucket(None), v4);
    }
}
