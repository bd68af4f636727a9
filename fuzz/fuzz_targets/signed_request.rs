//! Requests as they arrive from the network: every parser and check a watcher runs before
//! trusting a request must refuse bad input with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use posbon::protocol::{self, BundlePut, EnrolRequest, PhoneCheckinRequest, SignedRequest};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = serde_json::from_slice::<SignedRequest>(data) {
        let key = [7u8; 32];
        let _ = protocol::verify_request(&request, &key);
        let _ = protocol::check_freshness(&request, 5, 1_795_586_400_000);
        let _ = serde_json::from_str::<BundlePut>(&request.payload);
        let _ = serde_json::from_str::<posbon::plan::Plan>(&request.payload)
            .map(|plan| plan.validate());
        let _ = serde_json::from_str::<posbon::protocol::contacts::Directory>(&request.payload)
            .map(|dir| dir.validate());
    }
    let _ = serde_json::from_slice::<EnrolRequest>(data);
    let _ = serde_json::from_slice::<PhoneCheckinRequest>(data);
    let _ = protocol::unb64(&String::from_utf8_lossy(data));
});
