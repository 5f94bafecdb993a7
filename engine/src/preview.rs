//! Sample blocks: what an endpoint receives for a template, rendered from fixed sample
//! events. The console's preview (in the browser) and the "Test endpoint" button (on the
//! server) both call [`sample_block`], so the preview is byte for byte what is sent.

use crate::catalog::DataSource;
use crate::event::EventError;
use crate::template::Template;

/// The host of the sample events.
pub const SAMPLE_HOST: &str = "www.example.com";
/// Records in a sample block.
pub const SAMPLE_RECORDS: usize = 3;

/// [`SAMPLE_RECORDS`] sample events of the template's data source, rendered and joined by
/// `\n` as in a delivered block.
pub fn sample_block(template: &Template) -> Result<Vec<u8>, EventError> {
    let mut block = Vec::new();
    for (index, event) in sample_events(template.data_source()).iter().enumerate() {
        if index > 0 {
            block.push(b'\n');
        }
        block.extend_from_slice(&template.render_line(event.as_bytes())?);
    }
    Ok(block)
}

/// Hand-written events of `source` for [`SAMPLE_HOST`], each with every variable of the
/// source. Constants, so a preview is the same on every platform.
fn sample_events(source: DataSource) -> [&'static str; SAMPLE_RECORDS] {
    match source {
        DataSource::EdgeApplications => EDGE_APPLICATIONS_SAMPLES,
        DataSource::WafEvents => WAF_EVENTS_SAMPLES,
        DataSource::ActivityHistory => ACTIVITY_HISTORY_SAMPLES,
    }
}

const ACTIVITY_HISTORY_SAMPLES: [&str; SAMPLE_RECORDS] = [
    concat!(
        r#"{"time":"2026-11-14T12:00:01Z","request_id":"activity-1","client":"4529r","#,
        r#""actor":"ana@example.com","via":"console","action":"domain.create","#,
        r#""target":"domain/3","changes":{"name":{"from":null,"to":"www.example.com"}}}"#,
    ),
    concat!(
        r#"{"time":"2026-11-14T12:00:07Z","request_id":"activity-2","client":"4529r","#,
        r#""actor":"ana@example.com","via":"console","action":"stream.create","#,
        r#""target":"stream/12","changes":{"endpoint.secret_key":{"from":null,"to":"********"},"#,
        r#""name":{"from":null,"to":"Edge logs"}}}"#,
    ),
    concat!(
        r#"{"time":"2026-11-14T12:00:09Z","request_id":"activity-3","client":"4529r","#,
        r#""actor":"deploy@example.com","via":"api","action":"stream.update","#,
        r#""target":"stream/12","changes":{"active":{"from":true,"to":false}}}"#,
    ),
];

const EDGE_APPLICATIONS_SAMPLES: [&str; SAMPLE_RECORDS] = [
    // A cached home page.
    concat!(
        r#"{"asn":"AS28573","bytes_sent":48213,"client":"4529r","configuration":"1595368520","#,
        r#""country":"Brazil","host":"www.example.com","#,
        r#""http_referrer":"https://www.google.com/","#,
        r#""http_user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36","#,
        r#""proxy_status":"-","remote_addr":"177.84.21.9","remote_port":"52814","#,
        r#""request_id":"3f9c1e7a0b4d6f2891ce5a7b3d0e4f61","request_length":612,"#,
        r#""request_method":"GET","request_time":"0.002","#,
        r#""request_uri":"/?utm_source=newsletter&utm_medium=email","requestPath":"/","#,
        r#""requestQuery":"utm_source=newsletter&utm_medium=email","scheme":"https","#,
        r#""sent_http_content_type":"text/html; charset=utf-8","#,
        r#""sent_http_x_original_image_size":"-","server_addr":"198.51.100.12","#,
        r#""server_port":"443","server_protocol":"HTTP/2.0","session_id":"a41f9c07d2e86b35","#,
        r#""ssl_cipher":"TLS_AES_128_GCM_SHA256","ssl_protocol":"TLSv1.3","#,
        r#""ssl_server_name":"www.example.com","ssl_session_reused":"r","state":"São Paulo","#,
        r#""status":200,"stream":"1181","tcpinfo_rtt":"38412","time":"2026-11-14T12:00:01Z","#,
        r#""traceback":"rule_engine:set-cache-policy,rule_engine:add-security-headers","#,
        r#""upstream_addr":"-","upstream_bytes_received":"-","upstream_bytes_sent":"-","#,
        r#""upstream_cache_status":"HIT","upstream_connect_time":"-","#,
        r#""upstream_header_time":"-","upstream_response_time":"-","upstream_status":"-","#,
        r#""waf_attack_action":"$PASS","waf_attack_family":"-","waf_block":"0","#,
        r#""waf_headers":"-","waf_learning":"0","waf_match":"-","waf_score":"0","#,
        r#""waf_total_blocked":"0","waf_total_processed":"1"}"#,
    ),
    // A cache miss: the first origin refused the connection, the next one answered.
    concat!(
        r#"{"asn":"AS7922","bytes_sent":153430,"client":"4529r","configuration":"1595368520","#,
        r#""country":"United States","host":"www.example.com","#,
        r#""http_referrer":"https://www.example.com/","#,
        r#""http_user_agent":"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1","#,
        r#""proxy_status":"-","remote_addr":"73.162.44.201","remote_port":"61007","#,
        r#""request_id":"b82e05d4c19a7f3e6d0b2c8a94f1e573","request_length":721,"#,
        r#""request_method":"GET","request_time":"0.123","#,
        r#""request_uri":"/images/hero-banner.jpg?ims=1280x","#,
        r#""requestPath":"/images/hero-banner.jpg","requestQuery":"ims=1280x","scheme":"https","#,
        r#""sent_http_content_type":"image/jpeg","sent_http_x_original_image_size":"612480","#,
        r#""server_addr":"203.0.113.5","server_port":"443","server_protocol":"HTTP/3.0","#,
        r#""session_id":"5d2b8e41f07ac963","ssl_cipher":"TLS_AES_256_GCM_SHA384","#,
        r#""ssl_protocol":"TLSv1.3","ssl_server_name":"www.example.com","#,
        r#""ssl_session_reused":".","state":"California","status":200,"stream":"2204","#,
        r#""tcpinfo_rtt":"92114","time":"2026-11-14T12:00:01Z","#,
        r#""traceback":"rule_engine:set-cache-policy","#,
        r#""upstream_addr":"192.0.2.10:443, 192.0.2.11:443","#,
        r#""upstream_bytes_received":"0, 153402","upstream_bytes_sent":"0, 803","#,
        r#""upstream_cache_status":"MISS","upstream_connect_time":"0.001, 0.006","#,
        r#""upstream_header_time":"-, 0.094","upstream_response_time":"0.001, 0.121","#,
        r#""upstream_status":"502, 200","waf_attack_action":"$PASS","waf_attack_family":"-","#,
        r#""waf_block":"0","waf_headers":"-","waf_learning":"0","waf_match":"-","#,
        r#""waf_score":"0","waf_total_blocked":"0","waf_total_processed":"1"}"#,
    ),
    // An SQL injection attempt the WAF blocked.
    concat!(
        r#"{"asn":"AS3320","bytes_sent":812,"client":"4529r","configuration":"1595368520","#,
        r#""country":"Germany","host":"www.example.com","http_referrer":"-","#,
        r#""http_user_agent":"sqlmap/1.8.2#stable (https://sqlmap.org)","proxy_status":"-","#,
        r#""remote_addr":"79.214.3.88","remote_port":"40392","#,
        r#""request_id":"0c7d3a91e5f2b8467a1d9e0c3b5f6a28","request_length":498,"#,
        r#""request_method":"GET","request_time":"0.001","#,
        r#""request_uri":"/search?q=%27%20OR%201%3D1--","requestPath":"/search","#,
        r#""requestQuery":"q=%27%20OR%201%3D1--","scheme":"https","#,
        r#""sent_http_content_type":"text/html","sent_http_x_original_image_size":"-","#,
        r#""server_addr":"198.51.100.40","server_port":"443","server_protocol":"HTTP/1.1","#,
        r#""session_id":"e93a60c5b18f2d74","ssl_cipher":"ECDHE-RSA-AES128-GCM-SHA256","#,
        r#""ssl_protocol":"TLSv1.2","ssl_server_name":"www.example.com","#,
        r#""ssl_session_reused":".","state":"Hesse","status":403,"stream":"1187","#,
        r#""tcpinfo_rtt":"21873","time":"2026-11-14T12:00:02Z","traceback":"-","#,
        r#""upstream_addr":"-","upstream_bytes_received":"-","upstream_bytes_sent":"-","#,
        r#""upstream_cache_status":"-","upstream_connect_time":"-","upstream_header_time":"-","#,
        r#""upstream_response_time":"-","upstream_status":"-","waf_attack_action":"$BLOCK","#,
        r#""waf_attack_family":"SQL","waf_block":"1","#,
        r#""waf_headers":"SG9zdDogd3d3LmV4YW1wbGUuY29tDQpVc2VyLUFnZW50OiBzcWxtYXAvMS44LjIjc3RhYmxlIChodHRwczovL3NxbG1hcC5vcmcpDQpBY2NlcHQ6ICovKg0K","#,
        r#""waf_learning":"0","#,
        r#""waf_match":"{\"zone\":\"ARGS\",\"id\":\"1000\",\"var_name\":\"q\"}","#,
        r#""waf_score":"8","waf_total_blocked":"1","waf_total_processed":"1"}"#,
    ),
];

const WAF_EVENTS_SAMPLES: [&str; SAMPLE_RECORDS] = [
    // Cross-site scripting, blocked.
    concat!(
        r#"{"blocked":"1","client":"4529r","configuration":"1595368520","country":"France","#,
        r#""headers":"SG9zdDogd3d3LmV4YW1wbGUuY29tDQpVc2VyLUFnZW50OiBNb3ppbGxhLzUuMCAoWDExOyBMaW51eCB4ODZfNjQ7IHJ2OjEwOS4wKSBHZWNrby8yMDEwMDEwMSBGaXJlZm94LzExNS4wDQpBY2NlcHQ6ICovKg0K","#,
        r#""host":"www.example.com","remote_addr":"86.247.10.132","requestPath":"/comments","#,
        r#""requestQuery":"text=%3Cscript%3Ealert(document.cookie)%3C/script%3E","#,
        r#""server_protocol":"HTTP/2.0","time":"2026-11-14T12:00:01.208Z","truncated_body":"-","#,
        r#""version":"BETA","waf_args":"text=<script>alert(document.cookie)</script>","#,
        r#""waf_attack_action":"$BLOCK","waf_attack_family":"XSS","waf_learning":"0","#,
        r#""waf_match":"{\"zone\":\"ARGS\",\"id\":\"1302\",\"var_name\":\"text\"}","#,
        r#""waf_score":"8","waf_server":"www.example.com","waf_uri":"/comments"}"#,
    ),
    // SQL injection, which the WAF in learning mode would have blocked.
    concat!(
        r#"{"blocked":"0","client":"4529r","configuration":"1595368520","#,
        r#""country":"United States","headers":"-","host":"www.example.com","#,
        r#""remote_addr":"108.29.77.15","requestPath":"/products","#,
        r#""requestQuery":"id=1%20UNION%20SELECT%20username,password%20FROM%20users","#,
        r#""server_protocol":"HTTP/1.1","time":"2026-11-14T12:00:01.655Z","truncated_body":"-","#,
        r#""version":"BETA","waf_args":"id=1 UNION SELECT username,password FROM users","#,
        r#""waf_attack_action":"$LEARNING_BLOCK","waf_attack_family":"SQL","waf_learning":"1","#,
        r#""waf_match":"{\"zone\":\"ARGS\",\"id\":\"1000\",\"var_name\":\"id\"}","#,
        r#""waf_score":"12","waf_server":"www.example.com","waf_uri":"/products"}"#,
    ),
    // Path traversal (unencoded backslashes), let through in learning mode.
    concat!(
        r#"{"blocked":"0","client":"4529r","configuration":"1595368520","country":"Japan","#,
        r#""headers":"-","host":"www.example.com","remote_addr":"106.72.140.3","#,
        r#""requestPath":"/download","requestQuery":"file=..\\..\\windows\\win.ini","#,
        r#""server_protocol":"HTTP/3.0","time":"2026-11-14T12:00:02.031Z","truncated_body":"-","#,
        r#""version":"BETA","waf_args":"file=..\\..\\windows\\win.ini","#,
        r#""waf_attack_action":"$LEARNING_PASS","waf_attack_family":"TRAVERSAL","#,
        r#""waf_learning":"1","#,
        r#""waf_match":"{\"zone\":\"ARGS\",\"id\":\"1205\",\"var_name\":\"file\"}","#,
        r#""waf_score":"8","waf_server":"www.example.com","waf_uri":"/download"}"#,
    ),
];

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};

    use super::*;
    use crate::catalog::PRESETS;

    fn object(line: &str) -> Map<String, Value> {
        match serde_json::from_str(line) {
            Ok(Value::Object(object)) => object,
            other => panic!("not a JSON object ({other:?}): {line}"),
        }
    }

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

    #[test]
    fn sample_events_are_distinct_and_hold_every_variable_of_their_source() {
        for source in DataSource::ALL {
            let events = sample_events(source);
            let mut expected: Vec<&str> = source.variables().iter().map(|v| v.name).collect();
            expected.sort_unstable();
            for (index, event) in events.iter().enumerate() {
                assert!(!event.contains('\n'));
                let object = object(event);
                let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
                keys.sort_unstable();
                assert_eq!(keys, expected, "{source} sample {index}");
                if source.has_hosts() {
                    assert_eq!(object["host"], SAMPLE_HOST);
                }
                assert!(!events[..index].contains(event), "{source} sample {index}");
            }
        }
    }

    #[test]
    fn every_preset_renders_the_sample_block_as_json_lines() {
        for preset in PRESETS {
            let template = Template::compile(&preset.template_text(), preset.data_source).unwrap();
            let text = String::from_utf8(sample_block(&template).unwrap()).unwrap();
            let lines: Vec<&str> = text.split('\n').collect();
            assert_eq!(lines.len(), SAMPLE_RECORDS, "{}", preset.id);
            for (line, event) in lines.into_iter().zip(sample_events(preset.data_source)) {
                let (record, event) = (object(line), object(event));
                assert_eq!(record.len(), preset.variables().len(), "{}", preset.id);
                for variable in preset.variables() {
                    let expected = match &event[variable.name] {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    assert_eq!(record[variable.name], expected, "{}", variable.name);
                }
            }
        }
    }
}
