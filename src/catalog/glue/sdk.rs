//! What the Glue and Athena SDK clients share: one AWS configuration, and the operator line
//! for a failed call. Credentials and region come from the standard AWS chain;
//! `catalog.endpoint` points both services at an emulator.

use aws_sdk_glue::config::retry::RetryConfig;
use aws_sdk_glue::config::Region;
use aws_sdk_glue::Client;

use super::client::SdkGlue;
use crate::aws::Endpoint;
use crate::config::Config;

/// Glue and Athena clients sharing one AWS configuration, each with its endpoint (for
/// messages). They share `[datalake]`'s timeouts: the same link.
pub async fn sdk_clients(config: &Config) -> (SdkGlue, (aws_sdk_athena::Client, Endpoint)) {
    let settings = &config.catalog;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = settings.region.as_ref().or(config.datalake.region.as_ref()) {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &settings.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    let shared = loader.load().await;
    let region = shared
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".into());
    let endpoint = |service, host| {
        Endpoint::new(
            service,
            host,
            settings.endpoint.as_deref(),
            &region,
            "the network, the region and catalog.endpoint",
            settings.max_attempts,
            &config.datalake,
        )
    };
    let (glue_endpoint, athena_endpoint) = (endpoint("Glue", "glue"), endpoint("Athena", "athena"));
    let retry = RetryConfig::standard().with_max_attempts(settings.max_attempts);
    let mut glue = aws_sdk_glue::config::Builder::from(&shared)
        .retry_config(retry.clone())
        .timeout_config(glue_endpoint.timeouts());
    let mut athena = aws_sdk_athena::config::Builder::from(&shared)
        .retry_config(retry)
        .timeout_config(athena_endpoint.timeouts());
    if shared.region().is_none() {
        glue = glue.region(Region::new(region.clone()));
        athena = athena.region(aws_sdk_athena::config::Region::new(region));
    }
    (
        SdkGlue {
            client: Client::from_conf(glue.build()),
            endpoint: glue_endpoint,
        },
        (
            aws_sdk_athena::Client::from_conf(athena.build()),
            athena_endpoint,
        ),
    )
}

/// One operator line for a failed AWS call: service, operation and object, AWS's code and
/// message, and what to check. Both SDKs share the error type.
pub(crate) fn describe_sdk_error<E, R>(
    endpoint: &Endpoint,
    iam_prefix: &str,
    operation: &str,
    target: &str,
    err: &aws_sdk_glue::error::SdkError<E, R>,
) -> String
where
    E: aws_sdk_glue::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    use aws_sdk_glue::error::SdkError;
    let service = endpoint.service;
    if let Some(why) = endpoint.network_failure(err, endpoint.answer) {
        return format!(
            "cannot reach {service} at {} for {operation} {target}: {why}",
            endpoint.url
        );
    }
    match err {
        SdkError::ServiceError(service_err) => {
            let e = service_err.err();
            let code = e.code().unwrap_or("UnknownError");
            let message = e.message().unwrap_or_default();
            let hint = match code {
                "AccessDeniedException" => {
                    format!(" (allow {iam_prefix}:{operation} in the IAM policy)")
                }
                "TooManyRequestsException" | "ThrottlingException" => {
                    " (quota or rate limit reached; rerun later or raise the quota)".into()
                }
                "EntityNotFoundException" => " (run `edlake catalog sync` to create it)".into(),
                _ => String::new(),
            };
            format!("{service} {operation} {target} failed: {code}: {message}{hint}")
        }
        other => format!(
            "{service} {operation} {target} failed: {}",
            aws_sdk_glue::error::DisplayErrorContext(other)
        ),
    }
}
