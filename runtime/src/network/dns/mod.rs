//! A container's DNS server: a thin async UDP + TCP server in front of the
//! pure `table` (aardvark-dns's split). As Docker's embedded server, it
//! listens on 127.0.0.11:53 inside the container's own network namespace
//! (`embedded`), so it answers that one container only, whatever holds
//! port 53 on the host. Names the container may see are answered from its
//! table; every other query is forwarded unchanged to the container's own
//! `dns:` servers when it has some (Docker's embedded server uses them as
//! its upstreams), else the host's resolvers (from /etc/resolv.conf), and
//! the reply relayed back. The forwarding sockets are made by the tokio
//! runtime's threads, in the host's namespace, so upstreams such as
//! 127.0.0.53 (systemd-resolved) work. Wire format: hickory-proto.

pub mod embedded;
pub mod resolv;
pub mod table;

use super::error::NetworkError;
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::{rdata::A, rdata::AAAA, RData, Record, RecordType};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use table::DnsTable;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

/// TTL of our answers: short, containers come and go (Docker uses 600,
/// aardvark-dns 60).
pub const TTL: u32 = 60;
/// How long one upstream gets before the next is tried.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);

/// The shared, updatable table of a container.
pub type SharedTable = Arc<RwLock<DnsTable>>;

/// A running server; dropping it stops both listeners.
#[derive(Debug)]
pub struct DnsServer {
    local: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl DnsServer {
    /// Serve `table` on `addr` (UDP and TCP, same port) in the current
    /// namespace; unknown names go to `upstreams` (tests and benches: the
    /// supervisor serves sockets made by [`embedded::bind_in`]). Call
    /// inside a tokio runtime.
    pub async fn spawn(
        addr: SocketAddr,
        table: SharedTable,
        upstreams: Vec<SocketAddr>,
    ) -> Result<DnsServer, NetworkError> {
        let listen_err = |proto, source| NetworkError::Listen {
            addr,
            proto,
            source,
        };
        // Port 0 (tests, benches) picks a free UDP port whose TCP twin may
        // be taken: try a few.
        let attempts = if addr.port() == 0 { 8 } else { 1 };
        let mut attempt = 0;
        let (udp, local, tcp) = loop {
            attempt += 1;
            let udp = UdpSocket::bind(addr)
                .await
                .map_err(|e| listen_err("udp", e))?;
            let local = udp.local_addr().map_err(|e| listen_err("udp", e))?;
            match TcpListener::bind(local).await {
                Ok(tcp) => break (udp, local, tcp),
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && attempt < attempts => {}
                Err(e) => return Err(listen_err("tcp", e)),
            }
        };
        Ok(DnsServer::start(udp, tcp, local, table, upstreams))
    }

    /// Serve `table` on sockets bound elsewhere (a container's namespace).
    /// Call inside a tokio runtime.
    pub fn serve(
        sockets: embedded::DnsSockets,
        table: SharedTable,
        upstreams: Vec<SocketAddr>,
    ) -> Result<DnsServer, NetworkError> {
        let local = sockets.local;
        let listen_err = |proto, source| NetworkError::Listen {
            addr: local,
            proto,
            source,
        };
        let udp = UdpSocket::from_std(sockets.udp).map_err(|e| listen_err("udp", e))?;
        let tcp = TcpListener::from_std(sockets.tcp).map_err(|e| listen_err("tcp", e))?;
        Ok(DnsServer::start(udp, tcp, local, table, upstreams))
    }

    fn start(
        udp: UdpSocket,
        tcp: TcpListener,
        local: SocketAddr,
        table: SharedTable,
        upstreams: Vec<SocketAddr>,
    ) -> DnsServer {
        let resolver = Arc::new(Resolver { table, upstreams });
        let tasks = vec![
            tokio::spawn(serve_udp(Arc::new(udp), resolver.clone())),
            tokio::spawn(serve_tcp(tcp, resolver)),
        ];
        DnsServer { local, tasks }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Stop both listeners and wait until their sockets are closed.
    pub async fn close(mut self) {
        for task in &self.tasks {
            task.abort();
        }
        for task in &mut self.tasks {
            let _ = task.await;
        }
    }
}

struct Resolver {
    table: SharedTable,
    upstreams: Vec<SocketAddr>,
}

impl Resolver {
    /// The reply bytes for a query, `None` to stay silent
    /// (garbage in).
    async fn answer(&self, query: &[u8]) -> Option<Vec<u8>> {
        let request = Message::from_vec(query).ok()?;
        if request.message_type() != MessageType::Query {
            return None;
        }
        if let Some(reply) = self.local_answer(&request) {
            return reply.to_vec().ok();
        }
        let upstreams = self.upstreams();
        match forward(query, &upstreams).await {
            Some(bytes) => Some(bytes),
            None => Message::error_msg(request.id(), request.op_code(), ResponseCode::ServFail)
                .to_vec()
                .ok(),
        }
    }

    /// Answer from the table when the (single) question is one of our names.
    fn local_answer(&self, request: &Message) -> Option<Message> {
        let [question] = request.queries() else {
            return None;
        };
        let name = question.name().to_ascii();
        let table = self.table.read().unwrap_or_else(|p| p.into_inner());
        if !table.knows(&name) {
            return None;
        }
        let mut reply = Message::new();
        reply
            .set_id(request.id())
            .set_message_type(MessageType::Response)
            .set_op_code(request.op_code())
            .set_recursion_desired(request.recursion_desired())
            .set_recursion_available(true)
            .set_authoritative(true)
            .add_query(question.clone());
        // Other types for our names (and AAAA without IPv6): NOERROR with
        // no answer, so clients use what they have instead of asking
        // upstream.
        let (kind, owner) = (question.query_type(), question.name());
        if matches!(kind, RecordType::A | RecordType::ANY) {
            for addr in table.lookup(&name) {
                reply.add_answer(Record::from_rdata(owner.clone(), TTL, RData::A(A(addr))));
            }
        }
        if matches!(kind, RecordType::AAAA | RecordType::ANY) {
            for addr in table.lookup6(&name) {
                reply.add_answer(Record::from_rdata(
                    owner.clone(),
                    TTL,
                    RData::AAAA(AAAA(addr)),
                ));
            }
        }
        Some(reply)
    }

    /// The container's own servers, else the host's.
    fn upstreams(&self) -> Vec<SocketAddr> {
        let table = self.table.read().unwrap_or_else(|p| p.into_inner());
        match table.upstreams() {
            Some(own) => own.to_vec(),
            None => self.upstreams.clone(),
        }
    }
}

/// Relay the query to each upstream in turn until one answers.
async fn forward(query: &[u8], upstreams: &[SocketAddr]) -> Option<Vec<u8>> {
    for upstream in upstreams {
        let bind: SocketAddr = if upstream.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        }
        .parse()
        .ok()?;
        let Ok(sock) = UdpSocket::bind(bind).await else {
            continue;
        };
        if sock.connect(upstream).await.is_err() || sock.send(query).await.is_err() {
            continue;
        }
        let mut buf = vec![0u8; 65535];
        if let Ok(Ok(n)) = tokio::time::timeout(UPSTREAM_TIMEOUT, sock.recv(&mut buf)).await {
            buf.truncate(n);
            return Some(buf);
        }
    }
    None
}

/// The largest query read over UDP: a query is one question and at most an
/// EDNS OPT record (well under 512 bytes); every container has a server,
/// so its buffer stays small.
const MAX_UDP_QUERY: usize = 4096;

async fn serve_udp(socket: Arc<UdpSocket>, resolver: Arc<Resolver>) {
    let mut buf = vec![0u8; MAX_UDP_QUERY];
    loop {
        let Ok((n, client)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        // Weak: the socket closes with the server, not when the last
        // forwarded query has timed out.
        let (query, socket, resolver) =
            (buf[..n].to_vec(), Arc::downgrade(&socket), resolver.clone());
        tokio::spawn(async move {
            if let Some(reply) = resolver.answer(&query).await {
                if let Some(socket) = socket.upgrade() {
                    let _ = socket.send_to(&reply, client).await;
                }
            }
        });
    }
}

async fn serve_tcp(listener: TcpListener, resolver: Arc<Resolver>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        tokio::spawn(serve_tcp_conn(stream, resolver.clone()));
    }
}

/// DNS over TCP: each message is prefixed by its 16-bit length (RFC 1035
/// section 4.2.2); a connection may carry several queries.
async fn serve_tcp_conn(mut stream: TcpStream, resolver: Arc<Resolver>) {
    loop {
        let Ok(len) = stream.read_u16().await else {
            return;
        };
        let mut query = vec![0u8; usize::from(len)];
        if stream.read_exact(&mut query).await.is_err() {
            return;
        }
        let Some(reply) = resolver.answer(&query).await else {
            return;
        };
        let Ok(len) = u16::try_from(reply.len()) else {
            return;
        };
        if stream.write_u16(len).await.is_err() || stream.write_all(&reply).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
