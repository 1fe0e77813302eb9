#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrid_core::fuzzing::token_request(data));
