//! Where the dashboard's recording goes, chosen with rerun's own flags: `--save FILE.rrd`,
//! `--serve` (the web viewer bundled in the rerun crate, on localhost), `--connect URL` to a
//! running viewer, `--spawn` a native viewer. Off unless one is given.

use super::Dashboard;
use std::path::PathBuf;

/// The application id every recording of this program carries.
pub const APPLICATION_ID: &str = "grounded";

/// The dashboard flags. `--connect rerun+http://HOST:PORT/proxy` is shared with zenoh's
/// `--connect` (the URL's scheme tells them apart), so it is not declared here.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DashboardArgs {
    /// Write the dashboard's recording to this .rrd file (open it with the rerun viewer).
    #[arg(long, value_name = "FILE.rrd", help_heading = "Dashboard (rerun)")]
    pub save: Option<PathBuf>,
    /// Serve the dashboard: rerun's web viewer on 127.0.0.1:WEB_PORT (open the address printed),
    /// nothing to install but a browser. The program keeps serving after the run until Ctrl-C.
    #[arg(long, help_heading = "Dashboard (rerun)")]
    pub serve: bool,
    /// Start a native rerun viewer (the `rerun` program must be on PATH).
    #[arg(long, help_heading = "Dashboard (rerun)")]
    pub spawn: bool,
    /// Port of the served web viewer.
    #[arg(long, default_value_t = 9090, help_heading = "Dashboard (rerun)")]
    pub web_port: u16,
    /// Port of the served recording (the viewer reads it over gRPC).
    #[arg(long, default_value_t = rerun::DEFAULT_SERVER_PORT, help_heading = "Dashboard (rerun)")]
    pub grpc_port: u16,
    /// Address the servers bind to with --serve (0.0.0.0: every interface).
    #[arg(long, default_value = "127.0.0.1", help_heading = "Dashboard (rerun)")]
    pub bind: String,
    /// A running viewer to send to (from `--connect rerun+http://...`).
    #[arg(skip)]
    pub connect: Option<String>,
}

/// The chosen sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sink {
    Off,
    Save(PathBuf),
    Serve { bind: String, web_port: u16, grpc_port: u16 },
    Connect(String),
    Spawn,
}

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error("choose one dashboard sink: {0} were given (--save, --serve, --connect rerun+http://..., --spawn)")]
    Several(String),
    #[error("{0:?} is not a rerun viewer URL: expected rerun+http://HOST:PORT/proxy (or rerun://, rerun+https://)")]
    BadUrl(String),
    #[error("cannot start the dashboard ({sink}): {message}")]
    Start { sink: String, message: String },
}

/// Is this `--connect` value a rerun viewer rather than a zenoh endpoint?
pub fn is_viewer_url(s: &str) -> bool {
    ["rerun://", "rerun+http://", "rerun+https://"].iter().any(|p| s.starts_with(p))
}

impl DashboardArgs {
    pub fn sink(&self) -> Result<Sink, DashboardError> {
        let mut given = Vec::new();
        if let Some(p) = &self.save {
            given.push(("--save", Sink::Save(p.clone())));
        }
        if self.serve {
            given.push(("--serve", Sink::Serve { bind: self.bind.clone(), web_port: self.web_port, grpc_port: self.grpc_port }));
        }
        if let Some(url) = &self.connect {
            if !is_viewer_url(url) || !url.ends_with("/proxy") {
                return Err(DashboardError::BadUrl(url.clone()));
            }
            given.push(("--connect", Sink::Connect(url.clone())));
        }
        if self.spawn {
            given.push(("--spawn", Sink::Spawn));
        }
        match given.len() {
            0 => Ok(Sink::Off),
            1 => Ok(given.remove(0).1),
            _ => Err(DashboardError::Several(given.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", "))),
        }
    }

    /// Open the dashboard; with `--serve` the servers run until the process ends. `layout`
    /// sends the one-run layout (demo, daemon) once the first observation tells the domain;
    /// without it the viewer lays out by itself.
    pub fn open(&self, layout: bool) -> Result<Dashboard, DashboardError> {
        let sink = self.sink()?;
        let builder = rerun::RecordingStreamBuilder::new(APPLICATION_ID);
        let started = |what: &str, r: Result<rerun::RecordingStream, rerun::RecordingStreamError>| {
            r.map_err(|e| DashboardError::Start { sink: what.to_string(), message: e.to_string() })
        };
        let rec = match &sink {
            Sink::Off => return Ok(Dashboard::disabled()),
            Sink::Save(path) => started(&format!("--save {}", path.display()), builder.save(path))?,
            Sink::Connect(url) => started(&format!("--connect {url}"), builder.connect_grpc_opts(url.clone()))?,
            Sink::Spawn => started("--spawn", builder.spawn())?,
            Sink::Serve { bind, web_port, grpc_port } => {
                let options = rerun::ServerOptions { memory_limit: rerun::MemoryLimit::from_fraction_of_total(0.25), ..Default::default() };
                let rec = started("--serve", builder.serve_grpc_opts(bind, *grpc_port, options))?;
                let config = rerun::web_viewer::WebViewerConfig {
                    bind_ip: bind.clone(),
                    web_port: (*web_port).into(),
                    connect_to: vec![grpc_url(*grpc_port)],
                    open_browser: false,
                    ..Default::default()
                };
                rerun::serve_web_viewer(config).map_err(|e| DashboardError::Start { sink: "--serve".into(), message: e.to_string() })?.detach();
                eprintln!("dashboard: open {} in a browser", viewer_url(*web_port, *grpc_port));
                rec
            }
        };
        let d = Dashboard::new(rec);
        Ok(if layout { d.with_layout() } else { d })
    }
}

fn grpc_url(grpc_port: u16) -> String {
    format!("rerun+http://127.0.0.1:{grpc_port}/proxy")
}

/// The address of the served dashboard, with the recording to open.
pub fn viewer_url(web_port: u16, grpc_port: u16) -> String {
    let source: String = grpc_url(grpc_port)
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    format!("http://127.0.0.1:{web_port}/?url={source}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sink_at_most_and_urls_are_checked() {
        let mut a = DashboardArgs { web_port: 9090, grpc_port: 9876, bind: "127.0.0.1".into(), ..Default::default() };
        assert_eq!(a.sink().unwrap(), Sink::Off);
        a.save = Some("x.rrd".into());
        assert_eq!(a.sink().unwrap(), Sink::Save("x.rrd".into()));
        a.serve = true;
        assert!(matches!(a.sink(), Err(DashboardError::Several(s)) if s == "--save, --serve"));
        a.save = None;
        a.serve = false;
        a.connect = Some("tcp/127.0.0.1:7447".into());
        assert!(matches!(a.sink(), Err(DashboardError::BadUrl(_))));
        a.connect = Some("rerun+http://127.0.0.1:9876/proxy".into());
        assert_eq!(a.sink().unwrap(), Sink::Connect("rerun+http://127.0.0.1:9876/proxy".into()));
    }

    #[test]
    fn viewer_urls_are_told_from_zenoh_endpoints() {
        assert!(is_viewer_url("rerun+http://127.0.0.1:9876/proxy"));
        assert!(!is_viewer_url("tcp/127.0.0.1:7447"));
        assert_eq!(viewer_url(9090, 9876), "http://127.0.0.1:9090/?url=rerun%2Bhttp%3A%2F%2F127.0.0.1%3A9876%2Fproxy");
    }
}
