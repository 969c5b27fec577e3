//! Reads the JS options object into `RawOptions`, with an error that names the option
//! for every wrong type and for unknown (misspelt) option names.

use crate::binding::js::{self, RawEnv, RawValue};
use crate::core::options::RawOptions;
use napi::sys;
use std::ffi::CString;
use std::ptr;

const KNOWN: &[&str] = &[
    "domain", "audience", "issuer", "jwksUri", "algorithms", "clockTolerance", "maxTokenLength", "realm",
    "jwksCacheMaxAge", "jwksCooldown", "jwksTimeout", "jwksMaxStale", "jwksMaxBytes", "tokenCacheSize",
    "authorizeUser",
];

pub struct JsOptions {
    pub raw: RawOptions,
    pub authorize_user: Option<RawValue>,
}

pub unsafe fn read(env: RawEnv, options: RawValue) -> Result<JsOptions, String> {
    let mut out = JsOptions { raw: RawOptions::default(), authorize_user: None };
    match js::type_of(env, options) {
        sys::ValueType::napi_undefined | sys::ValueType::napi_null => return Ok(out),
        sys::ValueType::napi_object => {}
        _ => return Err("options must be an object".into()),
    }
    for name in own_keys(env, options) {
        if !KNOWN.contains(&name.as_str()) {
            return Err(format!("unknown option `{name}` (known options: {})", KNOWN.join(", ")));
        }
    }
    let raw = &mut out.raw;
    raw.domain = string(env, options, "domain")?;
    raw.issuer = string(env, options, "issuer")?;
    raw.jwks_uri = string(env, options, "jwksUri")?;
    raw.realm = string(env, options, "realm")?;
    raw.audience = string_or_list(env, options, "audience")?;
    raw.algorithms = string_or_list(env, options, "algorithms")?;
    raw.clock_tolerance_secs = number(env, options, "clockTolerance")?;
    raw.max_token_length = number(env, options, "maxTokenLength")?;
    raw.jwks_cache_max_age_ms = number(env, options, "jwksCacheMaxAge")?;
    raw.jwks_cooldown_ms = number(env, options, "jwksCooldown")?;
    raw.jwks_timeout_ms = number(env, options, "jwksTimeout")?;
    raw.jwks_max_stale_ms = number(env, options, "jwksMaxStale")?;
    raw.jwks_max_bytes = number(env, options, "jwksMaxBytes")?;
    raw.token_cache_size = number(env, options, "tokenCacheSize")?;
    out.authorize_user = function(env, options, "authorizeUser")?;
    Ok(out)
}

/// `undefined`/`null` -> None; a function -> Some; anything else is an error.
pub unsafe fn function_or_nothing(env: RawEnv, value: RawValue, name: &str) -> Result<Option<RawValue>, String> {
    match js::type_of(env, value) {
        sys::ValueType::napi_undefined | sys::ValueType::napi_null => Ok(None),
        sys::ValueType::napi_function => Ok(Some(value)),
        _ => Err(format!("`{name}` must be a function (claims) => boolean | Promise<boolean>")),
    }
}

unsafe fn own_keys(env: RawEnv, object: RawValue) -> Vec<String> {
    let mut names = ptr::null_mut();
    sys::napi_get_property_names(env, object, &mut names);
    let mut len = 0u32;
    sys::napi_get_array_length(env, names, &mut len);
    (0..len)
        .filter_map(|i| {
            let mut key = ptr::null_mut();
            sys::napi_get_element(env, names, i, &mut key);
            read_string(env, key)
        })
        .collect()
}

unsafe fn property(env: RawEnv, object: RawValue, name: &str) -> Option<RawValue> {
    let c_name = CString::new(name).ok()?;
    let value = js::get(env, object, &c_name);
    match js::type_of(env, value) {
        sys::ValueType::napi_undefined => None,
        _ => Some(value),
    }
}

pub unsafe fn read_string(env: RawEnv, value: RawValue) -> Option<String> {
    if js::type_of(env, value) != sys::ValueType::napi_string {
        return None;
    }
    js::read_utf8(env, value, js::utf8_len(env, value))
}

unsafe fn string(env: RawEnv, object: RawValue, name: &str) -> Result<Option<String>, String> {
    match property(env, object, name) {
        None => Ok(None),
        Some(v) => read_string(env, v).map(Some).ok_or_else(|| format!("`{name}` must be a string")),
    }
}

unsafe fn string_or_list(env: RawEnv, object: RawValue, name: &str) -> Result<Option<Vec<String>>, String> {
    let Some(value) = property(env, object, name) else { return Ok(None) };
    if let Some(s) = read_string(env, value) {
        return Ok(Some(vec![s]));
    }
    let mut is_array = false;
    sys::napi_is_array(env, value, &mut is_array);
    if !is_array {
        return Err(format!("`{name}` must be a string or an array of strings"));
    }
    let mut len = 0u32;
    sys::napi_get_array_length(env, value, &mut len);
    (0..len)
        .map(|i| {
            let mut item = ptr::null_mut();
            sys::napi_get_element(env, value, i, &mut item);
            read_string(env, item).ok_or_else(|| format!("`{name}` must be a string or an array of strings"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

unsafe fn number(env: RawEnv, object: RawValue, name: &str) -> Result<Option<f64>, String> {
    let Some(value) = property(env, object, name) else { return Ok(None) };
    if js::type_of(env, value) != sys::ValueType::napi_number {
        return Err(format!("`{name}` must be a number"));
    }
    let mut n = 0f64;
    sys::napi_get_value_double(env, value, &mut n);
    Ok(Some(n))
}

unsafe fn function(env: RawEnv, object: RawValue, name: &str) -> Result<Option<RawValue>, String> {
    match property(env, object, name) {
        None => Ok(None),
        Some(v) => function_or_nothing(env, v, name),
    }
}
