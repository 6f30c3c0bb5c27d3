//! Zenskar: any bytes as a get/create response body of either family
//! (`Provider::normalize` tells `/checkout` from `/checkouts` by the body;
//! then what the client does with a 2xx body: the raw copy for
//! `?include=raw` and the canonical output path) and as a non-2xx answer
//! (`errors::vendor_error`: FastAPI details, AWS `{"Message"}`, plain text).
//! Nothing may panic.
#![no_main]

use adapter_zenskar::{errors, Zenskar, PROVIDER};
use checkout_core::Provider;
use checkout_gateway_fuzz::{check_read, check_vendor_error, VendorAnswer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_read(PROVIDER, data, &Zenskar.normalize("default", data));
    for answer in [VendorAnswer::from_prefix(data), VendorAnswer::whole(data)] {
        let err = errors::vendor_error(answer.status, answer.is_json, answer.body);
        check_vendor_error(&answer, &err);
    }
});
