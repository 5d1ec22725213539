mod decode;
mod encode;
mod fixtures;
mod request;
mod request_body;
mod request_fuzz;
mod round_trip;
mod support;
