//! One POST per record, in order, over one kept-alive connection: the HTTP Receiver takes
//! each request's body as one event. A failed request fails the block, which is resent
//! whole (at-least-once: the records before the failure arrive again).

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::CONTENT_TYPE;

use super::QradarSettings;
use crate::endpoints::sink::{
    Acknowledged, Clients, DeliveryError, DeliveryFuture, HOP_HEADER, OutgoingBlock, Sink,
};

/// How long one event's POST may take.
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct QradarSink {
    clients: Clients,
    client: reqwest::Client,
    url: reqwest::Url,
}

impl QradarSink {
    pub fn new(clients: &Clients, settings: &QradarSettings) -> Result<QradarSink, String> {
        let url = settings.url.url().clone();
        Ok(QradarSink {
            clients: clients.clone(),
            client: clients.http(url.port_or_known_default().unwrap_or(0))?,
            url,
        })
    }

    async fn post(&self, event: Bytes) -> Result<(), DeliveryError> {
        let response = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(HOP_HEADER, "1")
            .timeout(TIMEOUT)
            .body(event)
            .send()
            .await
            .map_err(|e| DeliveryError::for_request(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        Err(DeliveryError::for_status(status, format!("HTTP {status}")))
    }

    async fn deliver_block(&self, block: &OutgoingBlock) -> Result<Acknowledged, DeliveryError> {
        self.clients.check_literal(&self.url)?;
        let mut events = 0;
        let body = &block.body;
        let mut start = 0;
        // Each record a slice of the block's buffer: no copy per event.
        for end in body
            .iter()
            .enumerate()
            .filter_map(|(i, b)| (*b == b'\n').then_some(i))
            .chain(std::iter::once(body.len()))
        {
            if end > start {
                self.post(body.slice(start..end)).await?;
                events += 1;
            }
            start = end + 1;
        }
        Ok(Acknowledged {
            answer: format!("HTTP 200 OK, {events} events"),
        })
    }
}

impl Sink for QradarSink {
    fn deliver<'a>(&'a self, block: &'a OutgoingBlock) -> DeliveryFuture<'a> {
        Box::pin(self.deliver_block(block))
    }
}
