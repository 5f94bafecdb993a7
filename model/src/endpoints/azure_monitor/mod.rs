//! Azure Monitor Logs through the Logs Ingestion API: a Microsoft Entra ID app signs in
//! with its client secret (client credentials), and each block goes as JSON arrays of its
//! records to a data collection rule's stream through a data collection endpoint. (The
//! older HTTP Data Collector API, signed with the workspace's shared key, is retired.)

#[cfg(feature = "sink")]
mod sink;

use serde::{Deserialize, Serialize};

use super::{
    DestinationAddress, Endpoint, EndpointForm, EndpointSettings, EndpointType, FieldKind,
    FieldSpec, HttpUrl,
};
use crate::field::{FieldError, FieldErrors};
use crate::secret::{Secret, SecretField};

pub static TYPE: EndpointType = EndpointType {
    id: "azure_monitor",
    label: "Azure Monitor (Logs Ingestion API)",
    fields: &[
        FieldSpec::text(
            "data_collection_endpoint",
            "Data Collection Endpoint",
            "azure-monitor-dce",
            true,
            "https://my-dce-a1b2.eastus-1.ingest.monitor.azure.com",
        ),
        FieldSpec::text(
            "dcr_immutable_id",
            "DCR Immutable ID",
            "azure-monitor-dcr",
            true,
            "dcr-00000000000000000000000000000000",
        ),
        FieldSpec::text(
            "stream_name",
            "Stream Name",
            "azure-monitor-stream",
            true,
            "Custom-EdgeLogs_CL",
        ),
        FieldSpec::text("tenant_id", "Tenant ID", "azure-monitor-tenant", true, ""),
        FieldSpec::text("client_id", "Client ID", "azure-monitor-client", true, ""),
        FieldSpec {
            key: "client_secret",
            label: "Client Secret",
            id: "azure-monitor-client-secret",
            kind: FieldKind::Secret,
            required: true,
            placeholder: "",
        },
        FieldSpec::text(
            "authority_url",
            "Authority Host",
            "azure-monitor-authority",
            false,
            PUBLIC_AUTHORITY,
        ),
    ],
    parse: |form| AzureMonitorSettings::parse(form).map(EndpointSettings::AzureMonitor),
};

/// Microsoft Entra ID of Azure's public cloud (blank Authority Host).
pub const PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com";
/// The Logs Ingestion API version the calls name.
pub const API_VERSION: &str = "2023-01-01";

/// `Debug` hides the client secret (see [`Secret`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AzureMonitorSettings {
    pub data_collection_endpoint: HttpUrl,
    pub dcr_immutable_id: DcrImmutableId,
    pub stream_name: StreamName,
    pub tenant_id: TenantId,
    pub client_id: Guid,
    #[serde(skip)]
    pub client_secret: Secret,
    /// Entra ID's host for the cloud the workspace is in (`login.microsoftonline.us` for
    /// Azure Government, a proxy's address).
    pub authority_url: HttpUrl,
}

impl AzureMonitorSettings {
    pub fn parse(form: &EndpointForm) -> Result<AzureMonitorSettings, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let named = |key| TYPE.field_error(key);
        let dce = errors.check(
            HttpUrl::parse(form.text("data_collection_endpoint"))
                .map_err(named("data_collection_endpoint")),
        );
        let dcr = errors.check(
            DcrImmutableId::parse(form.text("dcr_immutable_id")).map_err(named("dcr_immutable_id")),
        );
        let stream =
            errors.check(StreamName::parse(form.text("stream_name")).map_err(named("stream_name")));
        let tenant =
            errors.check(TenantId::parse(form.text("tenant_id")).map_err(named("tenant_id")));
        let client = errors.check(Guid::parse(form.text("client_id")).map_err(named("client_id")));
        let secret = errors.check(form.secret("client_secret", "Client Secret"));
        let authority = match form.text("authority_url").trim() {
            "" => HttpUrl::parse(PUBLIC_AUTHORITY).ok(),
            text => errors.check(HttpUrl::parse(text).map_err(named("authority_url"))),
        };
        match (dce, dcr, stream, tenant, client, secret, authority) {
            (
                Some(data_collection_endpoint),
                Some(dcr_immutable_id),
                Some(stream_name),
                Some(tenant_id),
                Some(client_id),
                Some(client_secret),
                Some(authority_url),
            ) if errors.is_empty() => Ok(AzureMonitorSettings {
                data_collection_endpoint,
                dcr_immutable_id,
                stream_name,
                tenant_id,
                client_id,
                client_secret,
                authority_url,
            }),
            _ => Err(errors.0),
        }
    }

    /// `<DCE>/dataCollectionRules/<DCR>/streams/<stream>?api-version=…`, as documented.
    pub fn ingestion_url(&self) -> ::url::Url {
        let mut url = self.data_collection_endpoint.url().clone();
        let path = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!(
            "{path}/dataCollectionRules/{}/streams/{}",
            self.dcr_immutable_id.as_str(),
            self.stream_name.as_str()
        ));
        url.set_query(Some(&format!("api-version={API_VERSION}")));
        url
    }

    /// `<authority>/<tenant>/oauth2/v2.0/token`: Entra ID's token endpoint.
    pub fn token_url(&self) -> ::url::Url {
        let mut url = self.authority_url.url().clone();
        let path = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!(
            "{path}/{}/oauth2/v2.0/token",
            self.tenant_id.as_str()
        ));
        url.set_query(None);
        url
    }

    /// The scope a token for Azure Monitor asks for, in the authority's cloud.
    pub fn scope(&self) -> &'static str {
        match self.authority_url.url().host_str().unwrap_or_default() {
            "login.microsoftonline.us" => "https://monitor.azure.us//.default",
            "login.chinacloudapi.cn" | "login.partner.microsoftonline.cn" => {
                "https://monitor.azure.cn//.default"
            }
            _ => "https://monitor.azure.com//.default",
        }
    }
}

impl Endpoint for AzureMonitorSettings {
    fn endpoint_type(&self) -> &'static EndpointType {
        &TYPE
    }

    fn url_field(&self) -> Option<(&'static str, &HttpUrl)> {
        Some(("data_collection_endpoint", &self.data_collection_endpoint))
    }

    /// The secret signs in as this app of this tenant, to send to this stream.
    fn destination(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.ingestion_url(),
            self.token_url(),
            self.client_id.as_str(),
            self.dcr_immutable_id.as_str(),
            self.stream_name.as_str()
        )
    }

    fn addresses(&self) -> Vec<DestinationAddress> {
        vec![
            DestinationAddress::of_url(
                &TYPE,
                "data_collection_endpoint",
                &self.data_collection_endpoint,
            ),
            DestinationAddress::of_url(&TYPE, "authority_url", &self.authority_url),
        ]
    }

    fn secrets_mut(&mut self) -> Vec<SecretField<'_>> {
        vec![TYPE.secret_field("client_secret", &mut self.client_secret)]
    }

    fn to_form(&self) -> EndpointForm {
        let mut form = self.form_with_url();
        form.set("dcr_immutable_id", self.dcr_immutable_id.as_str());
        form.set("stream_name", self.stream_name.as_str());
        form.set("tenant_id", self.tenant_id.as_str());
        form.set("client_id", self.client_id.as_str());
        if self.authority_url.url().as_str().trim_end_matches('/') != PUBLIC_AUTHORITY {
            form.set("authority_url", self.authority_url.as_str());
        }
        form
    }

    #[cfg(feature = "sink")]
    fn sink(
        &self,
        clients: &super::sink::Clients,
    ) -> Result<std::sync::Arc<dyn super::sink::Sink>, String> {
        Ok(std::sync::Arc::new(sink::AzureMonitorSink::new(
            clients, self,
        )?))
    }
}

/// A GUID in its 8-4-4-4-12 hexadecimal form (an app's client id, a tenant id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Guid(String);

impl Guid {
    pub fn parse(text: &str) -> Result<Guid, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required".into());
        }
        let groups: Vec<&str> = text.split('-').collect();
        let lengths_ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]);
        if !lengths_ok
            || !groups
                .iter()
                .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(format!(
                "{text:?} is not a GUID like 00000000-0000-0000-0000-000000000000"
            ));
        }
        Ok(Guid(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A directory (tenant): its GUID or one of its domain names (`contoso.onmicrosoft.com`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(text: &str) -> Result<TenantId, String> {
        let text = text.trim();
        if let Ok(guid) = Guid::parse(text) {
            return Ok(TenantId(guid.0));
        }
        let domain_ok = text.contains('.')
            && text.len() <= 253
            && text.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if text.is_empty() {
            return Err("is required".into());
        }
        if !domain_ok {
            return Err(format!(
                "{text:?} is neither a GUID nor a domain name like contoso.onmicrosoft.com"
            ));
        }
        Ok(TenantId(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A data collection rule's immutable id: `dcr-` and 32 hexadecimal digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DcrImmutableId(String);

impl DcrImmutableId {
    pub fn parse(text: &str) -> Result<DcrImmutableId, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required".into());
        }
        let hex = text.strip_prefix("dcr-").unwrap_or_default();
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "{text:?} is not an immutable id like dcr-0123456789abcdef0123456789abcdef (the rule's JSON view shows it)"
            ));
        }
        Ok(DcrImmutableId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A rule's input stream: `Custom-<table or stream>` or `Microsoft-<table>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StreamName(String);

impl StreamName {
    pub fn parse(text: &str) -> Result<StreamName, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required".into());
        }
        let name = text
            .strip_prefix("Custom-")
            .or_else(|| text.strip_prefix("Microsoft-"));
        let ok = name.is_some_and(|name| {
            !name.is_empty()
                && name.len() <= 200
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
        if !ok {
            return Err(format!(
                "{text:?} must be Custom-<name> or Microsoft-<name> (letters, digits, _ and -)"
            ));
        }
        Ok(StreamName(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_serde!(Guid, TenantId, DcrImmutableId, StreamName);

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> EndpointForm {
        let mut form = EndpointForm::new(&TYPE);
        form.set(
            "data_collection_endpoint",
            "https://dce-1.eastus-1.ingest.monitor.azure.com",
        );
        form.set("dcr_immutable_id", "dcr-0123456789abcdef0123456789ABCDEF");
        form.set("stream_name", "Custom-EdgeLogs_CL");
        form.set("tenant_id", "72F988BF-86F1-41AF-91AB-2D7CD011DB47");
        form.set("client_id", "00000000-1111-2222-3333-444444444444");
        form.set("client_secret", "s");
        form
    }

    #[test]
    fn the_calls_go_where_microsoft_documents_them() {
        let settings = AzureMonitorSettings::parse(&form()).unwrap();
        assert_eq!(
            settings.ingestion_url().as_str(),
            "https://dce-1.eastus-1.ingest.monitor.azure.com/dataCollectionRules/dcr-0123456789abcdef0123456789ABCDEF/streams/Custom-EdgeLogs_CL?api-version=2023-01-01"
        );
        assert_eq!(
            settings.token_url().as_str(),
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
        );
        assert_eq!(settings.scope(), "https://monitor.azure.com//.default");
        let mut gov = form();
        gov.set("authority_url", "https://login.microsoftonline.us");
        let gov = AzureMonitorSettings::parse(&gov).unwrap();
        assert_eq!(gov.scope(), "https://monitor.azure.us//.default");
        assert_eq!(
            gov.to_form().text("authority_url"),
            "https://login.microsoftonline.us/"
        );
        assert_eq!(
            settings.to_form().text("authority_url"),
            "",
            "the default stays blank"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = form();
        bad.set("dcr_immutable_id", "my-rule");
        bad.set("stream_name", "EdgeLogs");
        bad.set("tenant_id", "not a tenant");
        bad.set("client_id", "1234");
        bad.set("authority_url", "ftp://login");
        let errors = AzureMonitorSettings::parse(&bad).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "endpoint.dcr_immutable_id",
                "endpoint.stream_name",
                "endpoint.tenant_id",
                "endpoint.client_id",
                "endpoint.authority_url"
            ]
        );
        assert!(
            errors[1]
                .message
                .starts_with("Stream Name \"EdgeLogs\" must be Custom-")
        );
    }
}
