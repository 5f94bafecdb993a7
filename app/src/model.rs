//! The types the console shares with the server: the `model` crate (typed configuration,
//! the stream form, delivery views), under the console's usual path.

pub use model::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_host_leaves_out_credentials_path_and_query() {
        let parse = |form: &EndpointForm| EndpointSettings::parse(form).unwrap();
        let mut endpoint = EndpointForm::new(&endpoints::http::TYPE);
        // Credentials cannot be part of a URL (they belong in a header)…
        endpoint.set("url", "https://user:pw@siem.acme.test:8443/in?token=secret");
        assert!(EndpointSettings::parse(&endpoint).is_err());
        // …and the host leaves out path and query.
        endpoint.set("url", "https://siem.acme.test:8443/in?token=secret");
        assert_eq!(parse(&endpoint).endpoint().host(), "siem.acme.test:8443");
        let mut endpoint = EndpointForm::new(&endpoints::s3::TYPE);
        for (key, value) in [
            ("host_url", "http://127.0.0.1:9000"),
            ("bucket", "logs"),
            ("region", "us-east-1"),
            ("access_key", "AKIA"),
            ("secret_key", "s"),
        ] {
            endpoint.set(key, value);
        }
        assert_eq!(parse(&endpoint).endpoint().host(), "127.0.0.1:9000");
        let mut endpoint = EndpointForm::new(&endpoints::kafka::TYPE);
        endpoint.set("bootstrap_servers", " k1:9092,k2:9092 ");
        endpoint.set("topic", "t");
        assert_eq!(parse(&endpoint).endpoint().host(), "k1:9092,k2:9092");
    }
}
