//! Builds the application from settings; binds, migrates, serves.

use std::path::PathBuf;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::backend::session_store::DbSessionStore;
use app::backend::{AppState, auth};
use app::{App, OUTPUT_NAME, shell};
use axum::Router;
use axum::routing::post;
use axum::serve::ListenerExt;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use dataplane::edge::{Edge, EdgeListeners};
use dataplane::ingest::{self, IngestLimits, IngestState};
use dataplane::pipeline::{Pipeline, PipelineSettings};
use model::endpoints::destination::{DestinationPolicy, Resolver};
use model::endpoints::sink::Clients;
use storage::secrets::{SecretBox, SecretError};
use storage::{Db, DbError};

use crate::engine_control::Engine;
use crate::routes;
use crate::security;
use crate::settings::Settings;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("--data-dir / DS_DATA_DIR: cannot create {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--database-url / DATABASE_URL: {0}")]
    Database(DbError),
    #[error("{0}; the server did not start")]
    Migration(DbError),
    #[error("--secret-key / DS_SECRET_KEY / DS_SECRET_KEY_FILE: {0}")]
    SecretKey(SecretError),
    #[error("cannot start the streaming engine: {0}")]
    Pipeline(dataplane::pipeline::StartError),
    #[error("--bus needs PostgreSQL (--database-url postgres://…): instances share it")]
    BusWithoutPostgres,
    #[error("demo mode: {0}")]
    Demo(String),
    #[error("DS_ADMIN_EMAIL / DS_ADMIN_PASSWORD: {0}")]
    Admin(String),
    #[error("--max-record-bytes ({record}) must not be more than --block-max-bytes ({block})")]
    RecordLargerThanBlock { record: usize, block: u64 },
    #[error("--syslog-udp / --syslog-tcp: cannot listen: {0}")]
    Syslog(std::io::Error),
    #[error("--bind / DS_BIND: cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    port: u16,
    pipeline: Pipeline,
    edge_listeners: EdgeListeners,
    /// The demo's private nginx, stopped with the application.
    _demo_edge: Option<crate::tools::edge::RunningEdge>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        if settings.max_record_bytes as u64 > settings.block_max_bytes {
            return Err(StartupError::RecordLargerThanBlock {
                record: settings.max_record_bytes,
                block: settings.block_max_bytes,
            });
        }
        std::fs::create_dir_all(&settings.data_dir).map_err(|source| StartupError::DataDir {
            path: settings.data_dir.clone(),
            source,
        })?;
        let secrets = match &settings.secret_key {
            Some(key) => SecretBox::from_base64_key(key),
            None => SecretBox::load_or_create(&settings.effective_secret_key_file()),
        }
        .map_err(StartupError::SecretKey)?;
        let db = Db::connect(&settings.effective_database_url())
            .await
            .map_err(StartupError::Database)?;
        if settings.bus.is_some() && db.backend() != storage::DbBackend::Postgres {
            return Err(StartupError::BusWithoutPostgres);
        }
        db.migrate().await.map_err(StartupError::Migration)?;
        create_admin_if_first_run(&db, &settings).await?;
        let demo_credentials = match &settings.demo_receiver {
            Some(url) => crate::demo::seed(&db, &secrets, url, &settings.data_dir)
                .await
                .map_err(StartupError::Demo)?,
            None => None,
        };

        let listener =
            TcpListener::bind(settings.bind)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: settings.bind,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: settings.bind,
            source,
        })?;
        if !settings.site_root.join("pkg").exists() {
            tracing::warn!(
                site_root = %settings.site_root.display(),
                "web assets not found: pages render but will not hydrate (run scripts/build.sh)"
            );
        }

        let leptos_options = LeptosOptions::builder()
            .output_name(OUTPUT_NAME)
            .site_root(settings.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .site_addr(local_addr)
            .build();
        tracing::info!(
            url = %format!("http://{local_addr}"),
            database = %db.backend(),
            "Data Streaming console listening"
        );
        let pipeline_settings = PipelineSettings {
            limits: engine::BlockLimits {
                max_records: settings.block_max_records as usize,
                max_bytes: settings.block_max_bytes,
                max_age: settings.block_max_age,
            },
            spool_dir: settings.data_dir.join("spool"),
            spool_max_bytes: settings.spool_max_bytes,
            delivery_log_retention: settings.delivery_log_retention,
            bounds: settings.bounds(),
            bus: settings.bus_settings(local_addr.port()),
        };
        let clients = Clients {
            destinations: Arc::new(destination_policy(&settings, local_addr)),
        };
        let pipeline = Pipeline::start(db.clone(), secrets.clone(), pipeline_settings, clients)
            .await
            .map_err(StartupError::Pipeline)?;
        let (edge, edge_listeners) = Edge::start(pipeline.clone(), &settings.edge())
            .await
            .map_err(StartupError::Syslog)?;
        let passwords = Arc::new(auth::Passwords::default());
        let operations = routes::Operations {
            db: db.clone(),
            passwords: passwords.clone(),
            pipeline: pipeline.clone(),
            metrics_token_hash: settings
                .metrics_token
                .as_deref()
                .map(|t| storage::tokens::token_hash(t.trim()).into()),
        };
        let state = AppState {
            leptos_options,
            db,
            passwords,
            session_lifetime: settings.session_lifetime,
            secrets,
            engine: Arc::new(Engine {
                pipeline: pipeline.clone(),
                edge_listeners,
            }),
            bounds: settings.bounds(),
        };
        let router = router(state.clone(), settings.secure_cookies)
            .merge(api_router(state))
            .merge(ingest_router(IngestState::new(
                pipeline.clone(),
                IngestLimits {
                    max_body: settings.ingest_max_body,
                    read_timeout: settings.ingest_read_timeout,
                    max_concurrent: settings.ingest_max_concurrent as usize,
                },
            )))
            .merge(routes::operations_router(operations))
            // 5xx answers are logged at WARN here: the handlers log real faults themselves at
            // ERROR, and a full spool's 503 is the stated policy, not a fault.
            .layer(
                TraceLayer::new_for_http()
                    .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
            )
            // After the request log: its path holds an ingest token.
            .merge(modsecurity_router(edge));
        let mut demo_edge = None;
        if let Some(credentials) = demo_credentials
            && settings.demo_rate > 0
        {
            demo_edge = crate::demo::start_edge(
                &settings,
                &credentials,
                local_addr,
                edge_listeners.syslog_udp,
                &pipeline,
            )
            .await;
            if demo_edge.is_none() {
                spawn_demo_generator(local_addr, credentials, settings.demo_rate);
            }
        }
        Ok(Application {
            listener,
            router,
            port: local_addr.port(),
            pipeline,
            edge_listeners,
            _demo_edge: demo_edge,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where the syslog inputs listen (port 0 resolved).
    pub fn edge_listeners(&self) -> EdgeListeners {
        self.edge_listeners
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // Without TCP_NODELAY small answers wait on delayed ACKs (~40 ms per request).
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let served = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await;
        // The last seconds of dashboard counts and delivery log.
        self.pipeline.flush_stats().await;
        served
    }
}

/// The destination check: the operator's exceptions (and the demo receiver, which the
/// operator named), this server's listen address, the resolver.
fn destination_policy(settings: &Settings, local_addr: SocketAddr) -> DestinationPolicy {
    let mut allowed = settings.allow_destinations.clone();
    if let Some(target) = &settings.demo_receiver {
        allowed.extend(crate::demo::demo_hosts(target));
    }
    let resolver = match settings.destination_dns {
        Some(server) => Resolver::dns_server(server),
        None => Resolver::System,
    };
    DestinationPolicy::new(allowed, vec![local_addr], resolver)
}

/// Unattended installs: the first account and owner from `DS_ADMIN_EMAIL`/`DS_ADMIN_PASSWORD`.
async fn create_admin_if_first_run(db: &Db, settings: &Settings) -> Result<(), StartupError> {
    let (Some(email), Some(password)) = (&settings.admin_email, &settings.admin_password) else {
        return Ok(());
    };
    if db.count_users().await.map_err(StartupError::Database)? > 0 {
        return Ok(());
    }
    let email =
        app::validation::email("email", email).map_err(|e| StartupError::Admin(e.to_string()))?;
    app::validation::new_password("password", password)
        .map_err(|e| StartupError::Admin(e.to_string()))?;
    let hash = auth::Passwords::default()
        .hash(password.clone())
        .await
        .map_err(|e| StartupError::Admin(e.to_string()))?;
    let owner = db
        .create_first_owner(&settings.admin_account, &email, &hash)
        .await
        .map_err(StartupError::Database)?;
    tracing::info!(
        account_id = owner.account_id,
        "first owner created from DS_ADMIN_EMAIL"
    );
    Ok(())
}

/// Every route: health, the console's pages and server functions, static assets.
fn router(state: AppState, secure_cookies: bool) -> Router {
    let store = DbSessionStore::new(state.db.clone());
    spawn_expired_session_cleanup(store.clone());
    let sessions = SessionManagerLayer::new(store)
        .with_name("ds_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::hours(12),
        ));
    let routes = generate_route_list(App);
    Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::require_sign_in_for_pages,
        ))
        .layer(axum::middleware::from_fn(security::refuse_cross_site))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            secure_cookies,
            security::security_headers,
        ))
        // Server functions read their whole body: the largest form is a stream with a
        // template at its bound.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            console_body_limit(&state.bounds),
        ))
        .with_state(state)
}

/// The largest console request: a stream form whose Data Set is at its bound (JSON-escaped,
/// up to 6 bytes a byte), plus room for the rest of the form.
fn console_body_limit(bounds: &model::Bounds) -> usize {
    bounds
        .template_bytes
        .saturating_mul(6)
        .saturating_add(1024 * 1024)
}

/// The automation API: token-authenticated, so outside the console's sessions and CSRF
/// guard; bodies are bounded like the console's.
fn api_router(state: AppState) -> Router {
    let limit = console_body_limit(&state.bounds);
    let (api, _document) = crate::api::router();
    // The extractors' limit, so an oversized body answers 413 in the API's error shape.
    api.layer(axum::extract::DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// The ingest API: token-authenticated, so outside the console's sessions and CSRF guard.
/// Its handler reads the body itself, after the token (no body-limit layer).
fn ingest_router(state: IngestState) -> Router {
    Router::new()
        .route("/ingest/{source}", post(ingest::ingest))
        .with_state(state)
}

/// ModSecurity's audit log (`SecAuditLogType HTTPS`): the ingest token is the path's last
/// segment, as ModSecurity sends no custom headers.
fn modsecurity_router(edge: Edge) -> Router {
    Router::new()
        .route(
            "/ingest/modsecurity/{token}",
            post(dataplane::edge::modsecurity::receive),
        )
        .with_state(edge)
}

/// The built-in generator, sending demo events to this server once it listens.
fn spawn_demo_generator(addr: SocketAddr, credentials: PathBuf, rate: u32) {
    let args = crate::tools::generate::GenerateArgs {
        url: format!("http://{addr}"),
        token: None,
        token_file: Some(credentials),
        source: engine::DataSource::EdgeApplications,
        hosts: vec![crate::demo::DEMO_DOMAIN.to_string()],
        rate: u64::from(rate),
        events: 0,
        duration: None,
        batch: (rate as usize).clamp(1, 1000),
        connections: 1,
        quiet: true,
        syslog: None,
    };
    tokio::spawn(async move {
        if let Err(e) = crate::tools::generate::run(args).await {
            tracing::error!(error = %e, "demo generator stopped");
        }
    });
}

fn spawn_expired_session_cleanup(store: DbSessionStore) {
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "expired session cleanup failed");
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
