//! Per-instance `verify` and `verifyCached`: N-API functions bound to one verifier.
//!
//! A napi-rs class method finds its Rust object on every call: `napi_unwrap` (a private
//! property lookup), a class-identity check and the native-borrow registry (a mutex and a
//! SipHash map). Counted with callgrind that is ~3,500 instructions per call, a third of a
//! cache hit. A function created with the verifier's handle as its N-API `data` gets the
//! handle with no lookup at all. The constructor installs the two as own, non-enumerable
//! properties (writable and configurable, so test spies can still replace them); the
//! prototype methods remain for `Auth0Verifier.prototype.verify.call(v, token)`.
//! A side effect users may like: `const { verify } = verifier` works.

use crate::binding::hot_path::{internal_error, VerifierHandle};
use crate::binding::js::{self, RawEnv, RawValue};
use napi::sys;
use std::ffi::{c_void, CStr};
use std::ptr;
use std::sync::Arc;

/// Defines `verify` and `verifyCached` on `this` (the verifier object under construction),
/// and makes all three hold the verifier's hook holder (see completion::Channel::holder):
/// whatever can start a verify keeps its `authorizeUser` hook alive, through the JS heap
/// only, so a hook that refers back to the verifier is collected with it.
pub unsafe fn install(env: RawEnv, this: RawValue, handle: &Arc<VerifierHandle>) -> napi::Result<()> {
    let holder = handle.channel.holder(env).ok_or_else(|| napi::Error::from_reason("the hook holder is gone"))?;
    let verify = function(env, c"verify", verify_callback, handle)?;
    let verify_cached = function(env, c"verifyCached", verify_cached_callback, handle)?;
    let mut key = ptr::null_mut();
    sys::napi_create_symbol(env, js::string(env, "auth0-native:authorizeUser"), &mut key);
    // Read-only, not enumerable, not configurable: user code cannot detach it.
    let hidden = [sys::napi_property_descriptor {
        utf8name: ptr::null(),
        name: key,
        method: None,
        getter: None,
        setter: None,
        value: holder,
        attributes: sys::PropertyAttributes::default,
        data: ptr::null_mut(),
    }];
    for target in [this, verify, verify_cached] {
        if !js::ok(sys::napi_define_properties(env, target, hidden.len(), hidden.as_ptr())) {
            return Err(napi::Error::from_reason("could not attach the authorizeUser holder"));
        }
    }
    let property = |name: &'static CStr, value: RawValue| sys::napi_property_descriptor {
        utf8name: name.as_ptr(),
        name: ptr::null_mut(),
        method: None,
        getter: None,
        setter: None,
        value,
        attributes: sys::PropertyAttributes::writable | sys::PropertyAttributes::configurable,
        data: ptr::null_mut(),
    };
    let properties = [property(c"verify", verify), property(c"verifyCached", verify_cached)];
    if !js::ok(sys::napi_define_properties(env, this, properties.len(), properties.as_ptr())) {
        return Err(napi::Error::from_reason("could not define the verify methods"));
    }
    Ok(())
}

/// A JS function whose N-API `data` is a strong reference to `handle`, dropped when the
/// function is garbage-collected (it may outlive the verifier object: `const { verify } = v`).
unsafe fn function(env: RawEnv, name: &CStr, callback: Callback, handle: &Arc<VerifierHandle>) -> napi::Result<RawValue> {
    let data = Arc::into_raw(handle.clone()) as *mut c_void;
    let mut value = ptr::null_mut();
    let created = js::ok(sys::napi_create_function(env, name.as_ptr(), -1, Some(callback), data, &mut value))
        && js::ok(sys::napi_add_finalizer(env, value, data, Some(release), ptr::null_mut(), ptr::null_mut()));
    if !created {
        drop(Arc::from_raw(data as *const VerifierHandle));
        return Err(napi::Error::from_reason("could not create the verify methods"));
    }
    Ok(value)
}

type Callback = unsafe extern "C" fn(RawEnv, sys::napi_callback_info) -> RawValue;

unsafe extern "C" fn release(_env: RawEnv, data: *mut c_void, _hint: *mut c_void) {
    drop(Arc::from_raw(data as *const VerifierHandle));
}

/// The handle and the first argument (`undefined` when none was passed).
unsafe fn arguments<'a>(env: RawEnv, info: sys::napi_callback_info) -> Option<(&'a VerifierHandle, RawValue)> {
    let mut argc = 1usize;
    let mut argv = [ptr::null_mut(); 1];
    let mut data = ptr::null_mut();
    if !js::ok(sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), &mut data)) || data.is_null() {
        return None;
    }
    // The function holds a strong reference to the handle until it is finalized.
    Some((&*(data as *const VerifierHandle), argv[0]))
}

unsafe extern "C" fn verify_callback(env: RawEnv, info: sys::napi_callback_info) -> RawValue {
    let outcome = std::panic::catch_unwind(|| arguments(env, info).map(|(handle, token)| handle.verify(env, token)));
    match outcome {
        Ok(Some(promise)) => promise,
        // verify() never throws: a failure of our own is a rejected promise.
        _ => {
            let mut deferred = ptr::null_mut();
            let mut promise = ptr::null_mut();
            sys::napi_create_promise(env, &mut deferred, &mut promise);
            sys::napi_reject_deferred(env, deferred, js::verify_error(env, &internal_error(), ""));
            promise
        }
    }
}

unsafe extern "C" fn verify_cached_callback(env: RawEnv, info: sys::napi_callback_info) -> RawValue {
    let outcome = std::panic::catch_unwind(|| arguments(env, info).map(|(handle, token)| handle.verify_cached(env, token)));
    match outcome {
        Ok(Some(claims)) => claims,
        // verifyCached() never throws: null sends the caller to verify().
        _ => js::null(env),
    }
}
