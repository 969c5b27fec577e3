//! Small raw N-API helpers for the hot path. napi-rs' typed wrappers are used for the
//! class surface; the verify path talks to N-API directly because every call there is
//! paid once per request on the JavaScript thread.

use crate::core::errors::VerifyError;
use napi::sys;
use std::ffi::{c_char, CStr};
use std::ptr;

pub type RawEnv = sys::napi_env;
pub type RawValue = sys::napi_value;

pub fn ok(status: sys::napi_status) -> bool {
    status == sys::Status::napi_ok
}

pub unsafe fn string(env: RawEnv, s: &str) -> RawValue {
    let mut value = ptr::null_mut();
    sys::napi_create_string_utf8(env, s.as_ptr() as *const c_char, s.len() as isize, &mut value);
    value
}

/// Like `string`, but ASCII text (all JWT claims JSON in practice) skips V8's UTF-8 decoder.
pub unsafe fn text(env: RawEnv, s: &str) -> RawValue {
    if !s.is_ascii() {
        return string(env, s);
    }
    let mut value = ptr::null_mut();
    sys::napi_create_string_latin1(env, s.as_ptr() as *const c_char, s.len() as isize, &mut value);
    value
}

pub unsafe fn undefined(env: RawEnv) -> RawValue {
    let mut value = ptr::null_mut();
    sys::napi_get_undefined(env, &mut value);
    value
}

pub unsafe fn null(env: RawEnv) -> RawValue {
    let mut value = ptr::null_mut();
    sys::napi_get_null(env, &mut value);
    value
}

/// Length of a JS string in UTF-16 code units: O(1) in V8, unlike the UTF-8 length, which
/// scans the string. A lower bound of its UTF-8 byte length.
pub unsafe fn utf16_len(env: RawEnv, value: RawValue) -> usize {
    let mut len = 0usize;
    sys::napi_get_value_string_utf16(env, value, ptr::null_mut(), 0, &mut len);
    len
}

/// UTF-8 byte length of a JS string, without copying it (but scanning it).
pub unsafe fn utf8_len(env: RawEnv, value: RawValue) -> usize {
    let mut len = 0usize;
    sys::napi_get_value_string_utf8(env, value, ptr::null_mut(), 0, &mut len);
    len
}

/// Copies a JS string of known UTF-8 length `len` out of V8.
pub unsafe fn read_utf8(env: RawEnv, value: RawValue, len: usize) -> Option<String> {
    let mut buf = vec![0u8; len + 1];
    let mut written = 0usize;
    sys::napi_get_value_string_utf8(env, value, buf.as_mut_ptr() as *mut c_char, len + 1, &mut written);
    buf.truncate(written);
    String::from_utf8(buf).ok()
}

/// Calls `f` with a JS string's UTF-8 text, copied into a stack buffer when it fits (the
/// common token size), so a cache lookup costs no allocation and one pass over the string.
/// `units`: the string's `utf16_len`, which callers have already checked against their limit.
/// `None`: not valid UTF-8 (cannot happen for V8 strings, which encode lone surrogates as U+FFFD).
pub unsafe fn with_utf8<R>(env: RawEnv, value: RawValue, units: usize, f: impl FnOnce(&str) -> R) -> Option<R> {
    const STACK: usize = 2048;
    if units < STACK {
        // Not zeroed: N-API writes the bytes we then read (zeroing 2 KB per call showed up
        // in profiles of the cache-hit path).
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); STACK];
        let mut written = 0usize;
        sys::napi_get_value_string_utf8(env, value, buf.as_mut_ptr() as *mut c_char, STACK, &mut written);
        let copied = std::slice::from_raw_parts(buf.as_ptr() as *const u8, written.min(STACK - 1));
        // Complete only when every UTF-16 unit arrived as one ASCII byte. "Shorter than the
        // buffer" is not enough: V8 stops short of a multi-byte character that does not fit,
        // so `<token>€` could come back as `<token>`. Anything not ASCII takes the slow path.
        if written == units && copied.is_ascii() {
            // ASCII is valid UTF-8: no second validation pass.
            return Some(f(std::str::from_utf8_unchecked(copied)));
        }
    }
    let text = read_utf8(env, value, utf8_len(env, value))?;
    Some(f(&text))
}

pub unsafe fn set(env: RawEnv, object: RawValue, name: &CStr, value: RawValue) {
    sys::napi_set_named_property(env, object, name.as_ptr(), value);
}

pub unsafe fn get(env: RawEnv, object: RawValue, name: &CStr) -> RawValue {
    let mut value = ptr::null_mut();
    sys::napi_get_named_property(env, object, name.as_ptr(), &mut value);
    value
}

pub unsafe fn type_of(env: RawEnv, value: RawValue) -> sys::napi_valuetype {
    let mut t = 0;
    sys::napi_typeof(env, value, &mut t);
    t
}

pub unsafe fn reference(env: RawEnv, value: RawValue) -> sys::napi_ref {
    let mut r = ptr::null_mut();
    sys::napi_create_reference(env, value, 1, &mut r);
    r
}

/// A reference that does not keep `value` alive (N-API refcount 0); `deref` gives null
/// once it is collected. `napi_reference_ref` makes it strong for a while.
pub unsafe fn weak_reference(env: RawEnv, value: RawValue) -> sys::napi_ref {
    let mut r = ptr::null_mut();
    sys::napi_create_reference(env, value, 0, &mut r);
    r
}

pub unsafe fn deref(env: RawEnv, r: sys::napi_ref) -> RawValue {
    let mut value = ptr::null_mut();
    sys::napi_get_reference_value(env, r, &mut value);
    value
}

/// Calls `f` with `this` = `recv`. Err: the exception it threw, taken (so it can go to a
/// promise instead of Node's uncaught-exception path), or None if N-API failed without one.
pub unsafe fn call(env: RawEnv, recv: RawValue, f: RawValue, args: &[RawValue]) -> Result<RawValue, Option<RawValue>> {
    let mut out = ptr::null_mut();
    if ok(sys::napi_call_function(env, recv, f, args.len(), args.as_ptr(), &mut out)) {
        Ok(out)
    } else {
        Err(take_exception(env))
    }
}

/// Evaluates `source` (one function expression) and returns the function; None if it did
/// not compile (the exception is cleared).
pub unsafe fn compile(env: RawEnv, source: &str) -> Option<RawValue> {
    let mut value = ptr::null_mut();
    if ok(sys::napi_run_script(env, string(env, source), &mut value)) {
        return Some(value);
    }
    take_exception(env);
    None
}

/// Whether a JS exception is pending (thrown by a getter or proxy trap we just ran).
pub unsafe fn exception_pending(env: RawEnv) -> bool {
    let mut pending = false;
    sys::napi_is_exception_pending(env, &mut pending);
    pending
}

/// Takes the pending JS exception, if any, so it can be handed to a promise instead of
/// escaping into Node's uncaught-exception path.
pub unsafe fn take_exception(env: RawEnv) -> Option<RawValue> {
    let mut pending = false;
    sys::napi_is_exception_pending(env, &mut pending);
    if !pending {
        return None;
    }
    let mut error = ptr::null_mut();
    sys::napi_get_and_clear_last_exception(env, &mut error);
    Some(error)
}

/// An `Error` with the stable fields adapters rely on: `name`, `code`, `status`,
/// `wwwAuthenticate` and, for claim failures, `claim`.
pub unsafe fn verify_error(env: RawEnv, error: &VerifyError, realm: &str) -> RawValue {
    let mut js_error = ptr::null_mut();
    sys::napi_create_error(env, string(env, error.code()), string(env, &error.message), &mut js_error);
    set(env, js_error, c"name", string(env, "Auth0VerifyError"));
    let mut status = ptr::null_mut();
    sys::napi_create_uint32(env, error.status() as u32, &mut status);
    set(env, js_error, c"status", status);
    let challenge = match error.www_authenticate(realm) {
        Some(header) => string(env, &header),
        None => null(env),
    };
    set(env, js_error, c"wwwAuthenticate", challenge);
    if let Some(claim) = error.claim {
        set(env, js_error, c"claim", string(env, claim));
    }
    js_error
}

/// Throws `Error { code, message }` synchronously (construction-time errors).
pub unsafe fn throw_with_code(env: RawEnv, code: &str, message: &str) {
    let mut js_error = ptr::null_mut();
    sys::napi_create_error(env, string(env, code), string(env, message), &mut js_error);
    sys::napi_throw(env, js_error);
}
