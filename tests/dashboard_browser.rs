//! The served dashboard in a real browser: `grounded demo --serve` runs an episode and serves
//! rerun's web viewer; headless Chromium, driven through chromedriver (WebDriver over HTTP),
//! opens it. The test passes when the viewer loaded (its canvas, no loading error), the
//! recording's bytes reached the browser (the gRPC stream, read from Chromium's network log),
//! and the 3D view drew the scene (the red block's colour on screen). The screenshot goes to
//! `$GROUNDED_SCREENSHOT` when set (tools/browser-test.sh writes docs/dashboard.png, the
//! README's picture).
//!
//! Needs Debian's `chromium` and `chromium-driver`; run it with `bash tools/browser-test.sh`
//! (CI does, on every landing).
mod common;

use common::free_port;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the child when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One WebDriver call: HTTP/1.1 with a JSON body, the `value` of the JSON answer.
fn webdriver(port: u16, method: &str, path: &str, body: Option<Value>) -> Value {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to chromedriver");
    stream.set_read_timeout(Some(Duration::from_secs(120))).expect("timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send to chromedriver");
    // chromedriver keeps the connection open: read the head, then exactly the body it announces.
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).expect("read from chromedriver") > 0, "chromedriver closed the connection: {head}");
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let lower = head.to_ascii_lowercase();
    let body = if let Some(len) = lower.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse::<usize>().ok()) {
        let mut body = vec![0; len];
        reader.read_exact(&mut body).expect("read the body");
        String::from_utf8_lossy(&body).into_owned()
    } else {
        assert!(lower.contains("transfer-encoding: chunked"), "neither a length nor chunks: {head}");
        let mut body = Vec::new();
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).expect("chunk size");
            let n = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).expect("a chunk");
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        String::from_utf8_lossy(&body).into_owned()
    };
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("chromedriver answered {head} with {body:.300}: {e}"));
    assert!(head.starts_with("HTTP/1.1 200"), "{method} {path}: {head}\n{v}");
    v["value"].clone()
}

/// Bytes the browser received on the recording's gRPC stream, from the performance log.
fn recording_bytes(log: &Value, grpc_port: u16, urls: &mut std::collections::HashMap<String, String>) -> u64 {
    let mut bytes = 0;
    for entry in log.as_array().into_iter().flatten() {
        let Some(message) = entry["message"].as_str().and_then(|m| serde_json::from_str::<Value>(m).ok()) else { continue };
        let (method, params) = (&message["message"]["method"], &message["message"]["params"]);
        let id = params["requestId"].as_str().unwrap_or_default().to_string();
        if method == "Network.requestWillBeSent" {
            urls.insert(id, params["request"]["url"].as_str().unwrap_or_default().to_string());
        } else if method == "Network.dataReceived" {
            let url = urls.get(&id).map(String::as_str).unwrap_or_default();
            if url.contains(&format!(":{grpc_port}/")) && url.contains("ReadMessages") {
                bytes += params["dataLength"].as_u64().unwrap_or(0);
            }
        }
    }
    bytes
}

/// Pixels of the screenshot within `tolerance` of `rgb` (per channel).
fn pixels_near(png_bytes: &[u8], rgb: [u8; 3], tolerance: i32) -> usize {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG screenshot");
    let mut buf = vec![0; reader.output_buffer_size().expect("PNG size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    let channels = info.color_type.samples();
    buf[..info.buffer_size()].chunks(channels).filter(|p| p.len() >= 3 && (0..3).all(|c| (i32::from(p[c]) - i32::from(rgb[c])).abs() <= tolerance)).count()
}

#[test]
#[ignore = "needs Debian's chromium and chromium-driver: run `bash tools/browser-test.sh`"]
fn the_served_dashboard_shows_the_recording_in_a_browser() {
    use base64::Engine;
    let (web, grpc, driver_port) = (free_port(), free_port(), free_port());
    // The episode: matching-bowls, seed 0, has a red block (checked below from the demo's own JSON).
    let mut demo = Reaped(
        Command::new(env!("CARGO_BIN_EXE_grounded"))
            .args(["demo", "--json", "--serve", "--web-port", &web.to_string(), "--grpc-port", &grpc.to_string()])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start grounded demo --serve"),
    );
    let mut red = None;
    for line in BufReader::new(demo.0.stdout.take().expect("stdout")).lines() {
        let event: Value = serde_json::from_str(&line.expect("a line")).expect("a JSON event");
        if event["event"] == "scene" {
            red = event["objects"].as_array().into_iter().flatten().find(|o| o["name"] == "red block").cloned();
        }
        if event["event"] == "verdict" {
            assert_eq!(event["success"], true, "the demo episode succeeds");
            break;
        }
    }
    let red = red.expect("the demo's scene has a red block");
    let rgb: Vec<u8> = red["rgb"].as_array().map(|a| a.iter().filter_map(|v| v.as_u64().map(|v| v as u8)).collect()).unwrap_or_else(|| vec![230, 40, 40]);
    let red_rgb = [rgb[0], rgb[1], rgb[2]];
    // stderr says where the dashboard is once the run has ended and everything is flushed.
    let mut stderr = BufReader::new(demo.0.stderr.take().expect("stderr"));
    let url = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).expect("stderr") > 0, "grounded demo --serve ended without serving");
        if let Some(rest) = line.trim().strip_prefix("dashboard: serving ") {
            break rest.trim_end_matches(" until Ctrl-C").to_string();
        }
    };
    assert!(url.starts_with(&format!("http://127.0.0.1:{web}/?url=rerun%2Bhttp")), "{url}");

    let profile = std::env::temp_dir().join(format!("grounded-chromium-{}", std::process::id()));
    let _driver = Reaped(
        Command::new("chromedriver")
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver (Debian package chromium-driver)"),
    );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", driver_port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The flags of a browser on a closed network, plus a software WebGL2 (SwiftShader): with
    // --disable-gpu and no GPU, Chromium offers the viewer no WebGL2 context otherwise.
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--enable-unsafe-swiftshader",
        "--use-angle=swiftshader",
        "--window-size=1400,900",
    ];
    let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let capabilities = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
        "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"}
    }}});
    let session = webdriver(driver_port, "POST", "/session", Some(capabilities));
    let id = session["sessionId"].as_str().expect("a WebDriver session").to_string();
    let s = format!("/session/{id}");
    webdriver(driver_port, "POST", &format!("{s}/url"), Some(json!({"url": url})));

    let mut urls = std::collections::HashMap::new();
    let (mut received, mut red_pixels, mut shot) = (0u64, 0usize, Vec::new());
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(3));
        let page = webdriver(
            driver_port,
            "POST",
            &format!("{s}/execute/sync"),
            Some(json!({"script": "return [document.title, document.querySelectorAll('canvas').length, document.body.innerText]", "args": []})),
        );
        assert_eq!(page[0], "Rerun Viewer", "the served page is rerun's viewer: {page}");
        let text = page[2].as_str().unwrap_or_default();
        assert!(!text.contains("error occurred"), "the viewer failed to load: {text}");
        let log = webdriver(driver_port, "POST", &format!("{s}/se/log"), Some(json!({"type": "performance"})));
        received += recording_bytes(&log, grpc, &mut urls);
        shot = base64::engine::general_purpose::STANDARD
            .decode(webdriver(driver_port, "GET", &format!("{s}/screenshot"), None).as_str().expect("a screenshot"))
            .expect("base64 PNG");
        red_pixels = pixels_near(&shot, red_rgb, 45);
        if page[1].as_u64() >= Some(1) && received > 50_000 && red_pixels > 300 {
            break;
        }
    }
    if let Some(path) = std::env::var_os("GROUNDED_SCREENSHOT") {
        std::fs::write(&path, &shot).expect("write the screenshot");
    }
    let _ = webdriver(driver_port, "DELETE", &s, None);
    let _ = std::fs::remove_dir_all(&profile);
    assert!(received > 50_000, "the browser received only {received} bytes of the recording");
    assert!(red_pixels > 300, "the 3D view does not show the red block (rgb {red_rgb:?}): {red_pixels} pixels of its colour");
}
