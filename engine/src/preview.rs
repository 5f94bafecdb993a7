//! Sample blocks: what an endpoint receives for a template, rendered from generated
//! events. The console's preview (in the browser) and the "Test endpoint" button (on the
//! server) both call [`sample_block`], so the preview is byte for byte what is sent.

use crate::catalog::DataSource;
use crate::event::EventError;
use crate::generate::EventGenerator;
use crate::template::Template;

/// The host of the sample events.
pub const SAMPLE_HOST: &str = "www.example.com";
/// Records in a sample block.
pub const SAMPLE_RECORDS: usize = 3;
/// Fixed, so every preview and test block of a source carries the same events.
const SAMPLE_SEED: u64 = 2026;

/// [`SAMPLE_RECORDS`] sample events of the template's data source, rendered and joined by
/// `\n` as in a delivered block.
pub fn sample_block(template: &Template) -> Result<Vec<u8>, EventError> {
    let source: DataSource = template.data_source();
    let mut generator = EventGenerator::new(source, vec![SAMPLE_HOST.to_string()], SAMPLE_SEED);
    let mut block = Vec::new();
    let mut event = Vec::new();
    for index in 0..SAMPLE_RECORDS {
        event.clear();
        generator.write_event(&mut event);
        if index > 0 {
            block.push(b'\n');
        }
        block.extend_from_slice(&template.render_line(&event)?);
    }
    Ok(block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_block_is_the_same_every_time_and_one_record_per_line() {
        let template = Template::compile(
            r#"{"host": "$host", "status": "$status"}"#,
            DataSource::EdgeApplications,
        )
        .unwrap();
        let block = sample_block(&template).unwrap();
        assert_eq!(block, sample_block(&template).unwrap());
        let text = String::from_utf8(block).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines.len(), SAMPLE_RECORDS);
        for line in lines {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(record["host"], SAMPLE_HOST);
        }
    }
}
