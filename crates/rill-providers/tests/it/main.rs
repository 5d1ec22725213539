//! rill-providers' integration tests: one binary, one module per provider, each against
//! an in-process loopback upstream, and the cases every upstream kind shares
//! (`conformance`), run against each of them here.
//!
//! Modules are `#[cfg(test)]` so that clippy treats their helpers as test code too.

#[cfg(test)]
mod anthropic;
#[cfg(test)]
mod cohere;
#[cfg(test)]
mod common;
#[cfg(test)]
mod conformance;
#[cfg(test)]
mod gemini;
#[cfg(test)]
mod ollama;
#[cfg(test)]
mod openai_responses;
#[cfg(test)]
mod resilient;
#[cfg(test)]
mod upstream;

/// Runs every shared case against each kind, as `<kind>::<case>`; a kind's optional
/// cases (those it has the recordings for) follow it in brackets.
#[cfg(test)]
macro_rules! conformance {
    ($($kind:ident [$($optional:ident),*]),* $(,)?) => {
        mod conformance_of {$(
            mod $kind {
                conformance!(@cases $kind:
                    a_rate_limit_passes_through_with_its_retry_after,
                    a_refused_key_is_a_bad_gateway_that_never_shows_the_key,
                    each_status_maps_to_what_rill_s_client_should_see,
                    nothing_listening_is_an_upstream_error,
                    a_body_that_ends_before_the_answer_does_ends_in_an_error,
                    a_connection_that_breaks_mid_stream_ends_in_an_error,
                    dropping_the_stream_closes_the_upstream_connection,
                    without_a_key_no_key_is_sent,
                    redirects_are_not_followed
                    $(, $optional)*
                );
            }
        )*}
    };
    (@cases $kind:ident: $($case:ident),*) => {$(
        #[tokio::test]
        async fn $case() {
            crate::conformance::$case(&crate::$kind::KIND).await;
        }
    )*};
}

#[cfg(test)]
conformance! {
    anthropic [an_error_mid_stream_follows_the_partial_text_and_ends_the_stream],
    cohere [after_the_end_the_rest_of_the_body_is_not_read],
    gemini [an_error_mid_stream_follows_the_partial_text_and_ends_the_stream],
    ollama [
        an_error_mid_stream_follows_the_partial_text_and_ends_the_stream,
        after_the_end_the_rest_of_the_body_is_not_read
    ],
}
