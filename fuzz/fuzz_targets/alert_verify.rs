//! `posbon alert verify` reads whatever a lawyer received: JSON, an e-mail, pasted text. It
//! must give an answer (genuine or not), never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = posbon::alert::message::verify(data, "1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d");
});
