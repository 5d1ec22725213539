mod decode;
mod error;
mod fixtures;
mod request_body;
mod signatures;
mod support;
