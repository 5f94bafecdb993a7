//! A private edge: nginx with ModSecurity and the OWASP CRS (Debian's packages), in front
//! of a small local origin, configured with the console's own snippets
//! ([`engine::edge`]). The run command's demo and the tests send real requests through it.
//!
//! It has its own configuration, pid file, error log and temp folders in a scratch
//! folder, listens on loopback, and stops when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

const NGINX: &str = "nginx";
const MODULES: [&str; 2] = [
    "/usr/share/nginx/modules/ndk_http_module.so",
    "/usr/share/nginx/modules/ngx_http_modsecurity_module.so",
];
const CRS_SETUP: &str = "/etc/modsecurity/crs/crs-setup.conf";

/// Whether nginx, its ModSecurity module and the CRS are installed
/// (`apt-get install nginx libnginx-mod-http-modsecurity modsecurity-crs`).
pub fn installed() -> bool {
    MODULES.iter().all(|m| Path::new(m).exists())
        && Path::new(CRS_SETUP).exists()
        && Command::new(NGINX)
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success())
}

/// What the edge sends where.
pub struct EdgeConfig {
    /// nginx listens here (loopback).
    pub listen: SocketAddr,
    pub server_name: String,
    /// The origin nginx proxies to.
    pub origin: SocketAddr,
    /// The product's syslog UDP input.
    pub syslog: SocketAddr,
    /// The product's address (`http://host:port`), for ModSecurity's audit log.
    pub product_url: String,
    pub token: String,
    pub account_id: i64,
    /// A second access log, to a file, in the same format (tests compare the two).
    pub file_log: Option<PathBuf>,
}

/// A running private nginx; stopped when dropped.
pub struct RunningEdge {
    dir: PathBuf,
    config: PathBuf,
}

/// The whole nginx configuration: the console's snippets in a minimal `http` block.
pub fn nginx_config(dir: &Path, edge: &EdgeConfig) -> String {
    let d = dir.display();
    let modules: String = MODULES
        .iter()
        .map(|m| format!("load_module {m};\n"))
        .collect();
    let file_log = edge
        .file_log
        .as_ref()
        .map(|path| {
            format!(
                "    access_log {} {};\n",
                path.display(),
                engine::edge::LOG_FORMAT_NAME
            )
        })
        .unwrap_or_default();
    let server_lines =
        engine::edge::nginx_server_lines(&edge.syslog.to_string(), &format!("{d}/modsec.conf"))
            .lines()
            .map(|line| format!("    {line}\n"))
            .collect::<String>();
    format!(
        "{modules}pid {d}/nginx.pid;\nerror_log {d}/error.log notice;\nevents {{}}\nhttp {{\n\
         access_log off;\n\
         client_body_temp_path {d}/body;\nproxy_temp_path {d}/proxy;\nfastcgi_temp_path {d}/fastcgi;\n\
         uwsgi_temp_path {d}/uwsgi;\nscgi_temp_path {d}/scgi;\n\
         {log_format}\n\
         server {{\n    listen {listen};\n    server_name {name};\n{server_lines}{file_log}\
             location / {{ proxy_pass http://{origin}; }}\n}}\n}}\n",
        log_format = engine::edge::nginx_log_format(&edge.token, edge.account_id),
        listen = edge.listen,
        name = edge.server_name,
        origin = edge.origin,
    )
}

impl RunningEdge {
    /// Writes the configuration into `dir`, checks it (`nginx -t`) and starts nginx.
    pub fn start(dir: &Path, edge: &EdgeConfig) -> Result<RunningEdge, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let collector = format!(
            "{}{}",
            edge.product_url,
            engine::edge::modsecurity_path(&edge.token)
        );
        // Both files hold the ingest token: readable by their owner only (nginx's master
        // reads them as root or as this user).
        let write = |name: &str, text: String| {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(dir.join(name))
                .and_then(|mut file| file.write_all(text.as_bytes()))
                .map_err(|e| format!("{name}: {e}"))
        };
        write("modsec.conf", engine::edge::modsecurity_rules(&collector))?;
        write("nginx.conf", nginx_config(dir, edge))?;
        let config = dir.join("nginx.conf");
        let running = RunningEdge {
            dir: dir.to_path_buf(),
            config,
        };
        running.nginx(&["-t", "-q"])?;
        // Returns once the master listens (it binds before it daemonises).
        running.nginx(&[])?;
        Ok(running)
    }

    fn nginx(&self, args: &[&str]) -> Result<(), String> {
        let output = Command::new(NGINX)
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .output()
            .map_err(|e| format!("nginx: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "nginx {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for RunningEdge {
    fn drop(&mut self) {
        let _ = self.nginx(&["-s", "stop"]);
    }
}

/// The small origin behind the edge: every path answers 200 with a short page, as a shop
/// would.
pub async fn serve_origin(address: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    let local = listener.local_addr()?;
    let app = Router::new().fallback(|| async {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!doctype html><title>Shop</title><p>Welcome to the shop.</p>\n",
        )
            .into_response()
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(local)
}

/// Sends `rate` requests a second through the edge at `edge_url` for `host`, as browsers
/// would, one in ten an attack (SQL injection, XSS or path traversal) the WAF blocks.
pub async fn browse(edge_url: String, host: &'static str, rate: u32) {
    let client = reqwest::Client::new();
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1) / rate.max(1));
    for n in 0u64.. {
        every.tick().await;
        let path = match n % 10 {
            3 => format!("/products?id={n}'%20OR%20'1'='1"),
            6 => format!("/search?q=<script>alert({n})</script>"),
            9 => format!("/download?file=../../../../etc/passwd&n={n}"),
            k => [
                "/",
                "/products",
                "/search?q=shoes",
                "/cart",
                "/static/app.css",
                "/products?id=7",
            ][k as usize % 6]
                .to_string(),
        };
        let request = client
            .get(format!("{edge_url}{path}"))
            .header(header::HOST, host)
            .header(
                header::USER_AGENT,
                "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",
            )
            .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
            .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9");
        if let Err(e) = request.send().await {
            tracing::debug!(error = %e, "demo edge request failed");
        }
    }
}
