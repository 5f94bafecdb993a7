//! The console's handle on the running engine: the data plane's pipeline behind the
//! console's `EngineControl` trait (neither crate depends on the other).

use app::backend::{EngineControl, EngineFuture};
use dataplane::edge::EdgeListeners;
use dataplane::pipeline::Pipeline;
use model::{EndpointSettings, EndpointTestResult, FieldError, SpoolDepth};

pub struct Engine {
    pub pipeline: Pipeline,
    pub edge_listeners: EdgeListeners,
}

impl EngineControl for Engine {
    fn apply(&self, account_id: i64) -> EngineFuture<Result<(), String>> {
        // A task of its own: a client that goes away mid-request must not leave a saved
        // change half applied.
        let reload = tokio::spawn({
            let pipeline = self.pipeline.clone();
            async move { pipeline.apply(account_id).await }
        });
        Box::pin(async move {
            match reload.await {
                Ok(result) => result.map_err(|e| e.to_string()),
                Err(e) => Err(format!("the reload task failed: {e}")),
            }
        })
    }

    fn edge_status(&self, account_id: i64) -> EngineFuture<model::EdgeStatus> {
        let pipeline = self.pipeline.clone();
        Box::pin(async move { pipeline.edge_status(account_id).await })
    }

    fn syslog_ports(&self) -> (Option<u16>, Option<u16>) {
        (
            self.edge_listeners.syslog_udp.map(|a| a.port()),
            self.edge_listeners.syslog_tcp.map(|a| a.port()),
        )
    }

    fn redeliver_failed(&self, stream_id: i64) -> usize {
        self.pipeline.redeliver_failed(stream_id)
    }

    fn spool_depth(&self, stream_id: i64) -> EngineFuture<SpoolDepth> {
        let pipeline = self.pipeline.clone();
        Box::pin(async move { pipeline.spool_depth(stream_id).await })
    }

    fn bus_delivery(
        &self,
        account_id: i64,
        stream_id: i64,
    ) -> EngineFuture<Option<model::BusDelivery>> {
        let pipeline = self.pipeline.clone();
        Box::pin(async move { pipeline.bus_delivery(account_id, stream_id).await })
    }

    fn check_destination(&self, endpoint: EndpointSettings) -> EngineFuture<Vec<FieldError>> {
        let pipeline = self.pipeline.clone();
        Box::pin(async move { pipeline.check_destination(&endpoint).await })
    }

    fn publish_activity(
        &self,
        account_id: i64,
        event: Vec<u8>,
    ) -> EngineFuture<Result<(), String>> {
        let pipeline = self.pipeline.clone();
        Box::pin(async move {
            let answer = dataplane::ingest::accept(
                &pipeline,
                account_id,
                engine::DataSource::ActivityHistory,
                &event,
            )
            .await
            .map_err(|refusal| refusal.message)?;
            match answer.rejected.first() {
                None => Ok(()),
                Some(line) => Err(format!("the entry was refused: {}", line.reason)),
            }
        })
    }

    fn test_endpoint(
        &self,
        template: engine::Template,
        endpoint: EndpointSettings,
    ) -> EngineFuture<EndpointTestResult> {
        let pipeline = self.pipeline.clone();
        Box::pin(async move { pipeline.test_endpoint(&template, &endpoint).await })
    }
}
