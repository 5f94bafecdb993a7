//! The account's edge connection: where its nginx and ModSecurity send, and what arrived.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::EdgeStatus;

/// What the "Connect your edge" snippets need from the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EdgeAddresses {
    /// Written into the `log_format` as `client`.
    pub account_id: i64,
    /// `host:port` of the syslog UDP input as this browser reached the server; `None`
    /// when the server runs without `--syslog-udp`.
    pub syslog_udp: Option<String>,
    /// The same for TCP (`--syslog-tcp`), for relays.
    pub syslog_tcp: Option<String>,
    /// `scheme://host[:port]` of this server, for ModSecurity's `SecAuditLog`.
    pub server_url: String,
}

#[server(endpoint = "get_edge_addresses")]
pub async fn get_edge_addresses() -> Result<EdgeAddresses, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_user(&state).await?;
            let headers = leptos_axum::extract::<axum::http::HeaderMap>()
                .await
                .map_err(|e| auth::internal("reading the request headers", e))?;
            let authority = headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost")
                .to_string();
            let scheme = headers
                .get("x-forwarded-proto")
                .and_then(|h| h.to_str().ok())
                .filter(|p| *p == "https")
                .unwrap_or("http");
            // The host without the console's port: the syslog inputs have their own.
            let host = match authority.rsplit_once(':') {
                Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
                _ => authority.as_str(),
            };
            let (udp, tcp) = state.engine.syslog_ports();
            Ok(EdgeAddresses {
                account_id: user.account_id,
                syslog_udp: udp.map(|port| format!("{host}:{port}")),
                syslog_tcp: tcp.map(|port| format!("{host}:{port}")),
                server_url: format!("{scheme}://{authority}"),
            })
        }
        .await,
    )
}

/// The account's edge inputs since the server started, or in cluster mode over every
/// instance (the live indicator polls it).
#[server(endpoint = "get_edge_status")]
pub async fn get_edge_status() -> Result<EdgeStatus, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_user(&state).await?;
            Ok(state.engine.edge_status(user.account_id).await)
        }
        .await,
    )
}

/// The account's streams with something in their spool: (id, name, depth).
#[server(endpoint = "waiting_in_spools")]
pub async fn waiting_in_spools() -> Result<Vec<(i64, String, crate::model::SpoolDepth)>, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_user(&state).await?;
            let mut waiting = Vec::new();
            for stream in state.db.stream_summaries(user.account_id).await? {
                let depth = state.engine.spool_depth(stream.id).await;
                if depth.bytes > 0 || depth.failed_blocks > 0 {
                    waiting.push((stream.id, stream.name, depth));
                }
            }
            Ok(waiting)
        }
        .await,
    )
}
