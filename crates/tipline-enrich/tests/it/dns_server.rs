//! A small authoritative DNS server for tests: real DNS over UDP on 127.0.0.1, answering
//! from a table of (name, type) → records; names not in the table are NXDOMAIN, known
//! names without records of the asked type get an empty NOERROR. Counts queries.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, MX, NS, PTR, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::net::UdpSocket;

#[derive(Default)]
pub struct Zone {
    records: HashMap<(String, RecordType), Vec<RData>>,
}

impl Zone {
    fn add(&mut self, name: &str, rdata: RData) -> &mut Self {
        let record_type = rdata.record_type();
        self.records
            .entry((name.trim_end_matches('.').to_ascii_lowercase(), record_type))
            .or_default()
            .push(rdata);
        self
    }
    pub fn a(&mut self, name: &str, ip: &str) -> &mut Self {
        self.add(name, RData::A(A(ip.parse::<Ipv4Addr>().unwrap())))
    }
    pub fn aaaa(&mut self, name: &str, ip: &str) -> &mut Self {
        self.add(name, RData::AAAA(AAAA(ip.parse::<Ipv6Addr>().unwrap())))
    }
    pub fn txt(&mut self, name: &str, text: &str) -> &mut Self {
        self.add(name, RData::TXT(TXT::new(vec![text.to_string()])))
    }
    pub fn ptr(&mut self, name: &str, target: &str) -> &mut Self {
        self.add(name, RData::PTR(PTR(Name::from_ascii(format!("{target}.")).unwrap())))
    }
    pub fn mx(&mut self, name: &str, preference: u16, host: &str) -> &mut Self {
        self.add(
            name,
            RData::MX(MX::new(preference, Name::from_ascii(format!("{host}.")).unwrap())),
        )
    }
    pub fn ns(&mut self, name: &str, host: &str) -> &mut Self {
        self.add(name, RData::NS(NS(Name::from_ascii(format!("{host}.")).unwrap())))
    }
}

pub struct DnsServer {
    pub addr: SocketAddr,
    queries: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl DnsServer {
    pub async fn start(zone: Zone) -> DnsServer {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let queries = Arc::new(AtomicUsize::new(0));
        let counter = queries.clone();
        let task = tokio::spawn(async move {
            let mut buffer = [0u8; 4096];
            loop {
                let Ok((len, peer)) = socket.recv_from(&mut buffer).await else { return };
                let Ok(request) = Message::from_vec(&buffer[..len]) else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                let response = answer(&zone, &request);
                let _ = socket.send_to(&response.to_vec().unwrap(), peer).await;
            }
        });
        DnsServer { addr, queries, task }
    }

    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(zone: &Zone, request: &Message) -> Message {
    let mut response = Message::response(request.metadata.id, request.metadata.op_code);
    response.metadata.authoritative = true;
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.add_queries(request.queries.clone());
    let Some(query) = request.queries.first() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return response;
    };
    let name = query.name().to_ascii().trim_end_matches('.').to_ascii_lowercase();
    let known = zone.records.keys().any(|(n, _)| *n == name);
    if !known {
        response.metadata.response_code = ResponseCode::NXDomain;
        return response;
    }
    for rdata in zone.records.get(&(name, query.query_type())).into_iter().flatten() {
        response.add_answer(Record::from_rdata(query.name().clone(), 60, rdata.clone()));
    }
    response
}
