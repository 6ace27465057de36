//! The HTTP/1.1 keep-alive client against a real server (hyper) on
//! loopback, over TLS and plain TCP: pipelined requests come back in order
//! on one connection, chunked and sized bodies alike, a server's close is
//! reported with the requests left unanswered, and the in-flight limit
//! holds.

mod net_support;

use mio::{Events, Poll, Token};
use net_support::*;
use pt_net::{HttpConn, HttpTarget, NetError, Pumped, tls};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const TOKEN: Token = Token(7);

struct Client {
    poll: Poll,
    events: Events,
    conn: HttpConn,
}

fn client(server: &Server, max_in_flight: usize) -> Client {
    let cfg = server
        .ca_file
        .as_ref()
        .map(|path| tls::client_config_from_ca_file(path).unwrap());
    let target = HttpTarget::resolve("127.0.0.1", server.port, cfg.as_ref()).unwrap();
    let poll = Poll::new().unwrap();
    let conn = HttpConn::connect(&target, poll.registry(), TOKEN, max_in_flight, 1 << 20).unwrap();
    Client {
        poll,
        events: Events::with_capacity(8),
        conn,
    }
}

impl Client {
    /// Pumps until `want` responses arrived or the connection closed.
    fn collect(&mut self, want: usize) -> (Vec<(u64, u16, Vec<u8>)>, bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut got = Vec::new();
        loop {
            self.poll
                .poll(&mut self.events, Some(Duration::from_millis(20)))
                .unwrap();
            let outcome = self
                .conn
                .pump(&mut |r| got.push((r.tag, r.status, r.body.to_vec())))
                .unwrap();
            if let Pumped::Closed(_) = outcome {
                return (got, true);
            }
            if got.len() >= want {
                return (got, false);
            }
            assert!(Instant::now() < deadline, "timed out with {}", got.len());
        }
    }
}

fn pipelined(identity: Option<&Identity>) {
    let (server, connections) = http_server(identity);
    let mut c = client(&server, 64);
    // Queued while connecting and handshaking, then sent together.
    let mut expected = Vec::new();
    for i in 0..40u64 {
        let body = vec![b'a' + (i % 26) as u8; (i as usize * 997) % 5000];
        let path = format!("/trade-api/v2/x/{i}");
        let mut headers: Vec<(&str, &[u8])> = vec![("KALSHI-ACCESS-KEY", b"k")];
        if i % 3 == 0 {
            headers.push(("x-chunked", b"1"));
        }
        c.conn
            .request(i, "POST", path.as_bytes(), &headers, |w| {
                w.extend_from_slice(&body)
            })
            .unwrap();
        let mut want = format!("POST {path} {}\n", body.len()).into_bytes();
        want.extend_from_slice(&body);
        expected.push((i, 200, want));
    }
    assert_eq!(c.conn.waiting(), 40);
    let (got, closed) = c.collect(40);
    assert!(!closed);
    assert_eq!(got, expected);
    // A large body grows the read buffer once.
    let big = vec![b'z'; 300_000];
    c.conn
        .request(99, "PUT", b"/big", &[("x-chunked", b"1")], |w| {
            w.extend_from_slice(&big)
        })
        .unwrap();
    let (got, _) = c.collect(1);
    assert_eq!(got[0].0, 99);
    assert_eq!(got[0].2.len(), "PUT /big 300000\n".len() + big.len());
    // Statuses pass through; no body is fine.
    c.conn
        .request(100, "DELETE", b"/gone", &[("x-status", b"409")], |_| {})
        .unwrap();
    let (got, _) = c.collect(1);
    assert_eq!(got, vec![(100, 409, b"DELETE /gone 0\n".to_vec())]);
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "one keep-alive connection"
    );
    assert_eq!(c.conn.counts(), (42, 42));
    assert_eq!(c.conn.tls_stats().is_some(), identity.is_some());
}

#[test]
fn pipelined_requests_over_tls_come_back_in_order_on_one_connection() {
    pipelined(Some(&identity()));
}

#[test]
fn pipelined_requests_over_plain_tcp() {
    pipelined(None);
}

#[test]
fn a_close_reports_what_was_left_unanswered() {
    let (server, _) = http_server(Some(&identity()));
    let mut c = client(&server, 4);
    c.conn.request(1, "GET", b"/a", &[], |_| {}).unwrap();
    c.conn
        .request(2, "GET", b"/b", &[("x-close", b"1")], |_| {})
        .unwrap();
    c.conn.request(3, "GET", b"/c", &[], |_| {}).unwrap();
    c.conn.request(4, "GET", b"/d", &[], |_| {}).unwrap();
    let err = c.conn.request(5, "GET", b"/e", &[], |_| {}).unwrap_err();
    assert!(matches!(err, NetError::Busy { in_flight: 4 }), "{err}");
    let (got, closed) = c.collect(4);
    assert!(closed);
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(c.conn.in_flight().collect::<Vec<_>>(), vec![3, 4]);
    assert!(c.conn.is_closed());
    assert!(matches!(
        c.conn.request(6, "GET", b"/f", &[], |_| {}),
        Err(NetError::Closed)
    ));
}
