//! Every registered vendor (`providers::all()`): any bytes as a get/create
//! response body (`Provider::normalize`, then what the gateway does with a
//! 2xx body: the raw copy for `?include=raw` and the canonical output path)
//! and as a non-2xx answer (`Provider::read_error`). Nothing may panic.
#![no_main]

use checkout_gateway_fuzz::{check_read, check_vendor_error, vendor_of, VendorAnswer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (provider, data) = vendor_of(data);
    check_read(provider.name(), data, &provider.normalize("default", data));
    for answer in [VendorAnswer::from_prefix(data), VendorAnswer::whole(data)] {
        let err = provider.read_error(&answer.to_exchange());
        check_vendor_error(&answer, &err);
    }
});
