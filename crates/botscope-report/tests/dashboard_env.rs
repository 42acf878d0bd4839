//! `$BOTSCOPE_TOKEN` is honoured by the dashboard. A test binary of its own:
//! it sets the variable, which no other test may see.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

fn get(addr: SocketAddr, path: &str, auth: Option<&str>) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    if let Some(a) = auth {
        req.push_str(&format!("Authorization: Bearer {a}\r\n"));
    }
    req.push_str("Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut r = String::new();
    s.read_to_string(&mut r).unwrap();
    let body = r[r.find("\r\n\r\n").unwrap() + 4..].to_string();
    (r[9..12].parse().unwrap(), body)
}

#[test]
fn token_from_the_environment() {
    use botscope_report::serve::{check_bind, effective_token, serve, ServeConfig, TOKEN_ENV};
    std::env::set_var(TOKEN_ENV, "from-env");
    assert_eq!(effective_token(None).as_deref(), Some("from-env"));
    assert_eq!(
        effective_token(Some(String::new())).as_deref(),
        Some("from-env")
    );
    // A token given on the command line wins.
    assert_eq!(
        effective_token(Some("flag".into())).as_deref(),
        Some("flag")
    );
    // So a non-loopback bind may start with the variable alone.
    let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
    assert!(check_bind(&any, effective_token(None).as_deref()).is_ok());

    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let cfg = ServeConfig {
        data: dir.path().to_path_buf(),
        token: None,
    };
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            serve(cfg, l).await.unwrap();
        });
    });
    let addr = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(
        get(addr, "/api/version", None),
        (401, "token required\n".into())
    );
    assert_eq!(get(addr, "/api/version", Some("wrong")).0, 401);
    assert_eq!(get(addr, "/api/version", Some("from-env")).0, 200);
    assert_eq!(get(addr, "/", Some("from-env")).0, 200);

    std::env::remove_var(TOKEN_ENV);
    assert_eq!(effective_token(None), None);
}
