//! mimalloc's options that keep the resident memory of a long `ingest` or `serve` near what it uses.
//!
//! mimalloc 3's defaults suit short, allocation-heavy processes: it commits a whole arena up front
//! (`arena_eager_commit` = 2 on Linux), and keeps freed memory a second before giving it back
//! (`purge_delay` = 1000 ms). On a 400,000-record `ingest` (2 threads) that left peak RSS at
//! 531-543 MB where the system allocator peaked at 391 MB; with on-demand commit and a 10 ms
//! purge delay (mimalloc 2's default) it peaked at 387 MB, 3-5 % slower (BENCHMARKS.md, "ingest
//! memory, mimalloc's options"; normalize alone is not slower).
//!
//! The options are set by a constructor that runs before `main`: mimalloc reads
//! `arena_eager_commit` when it reserves its first arena, which the first allocation does, so
//! setting it from `main` comes too late. mimalloc's own constructor (priority 101) has read the
//! `MIMALLOC_*` environment variables by then; an option a user set there is left as they set it.
//! Shared by the `mdm-audit` binary and the normalize benchmark (`#[path]`), so that the benchmark
//! measures the allocator as shipped.

use std::ffi::{c_char, c_int, c_long};

/// `mi_option_arena_eager_commit` in mimalloc.h (the same number in mimalloc 2 and 3).
pub const ARENA_EAGER_COMMIT: c_int = 4;
/// `mi_option_purge_delay` in mimalloc.h, in milliseconds.
pub const PURGE_DELAY: c_int = 15;

/// The options set, with the environment variable that overrides each.
pub const OPTIONS: [(c_int, &std::ffi::CStr, c_long); 2] = [
    (ARENA_EAGER_COMMIT, c"MIMALLOC_ARENA_EAGER_COMMIT", 0),
    (PURGE_DELAY, c"MIMALLOC_PURGE_DELAY", 10),
];

#[allow(unsafe_code)]
unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
    #[cfg(test)]
    fn mi_options_print_out(
        out: Option<unsafe extern "C" fn(msg: *const c_char, arg: *mut std::ffi::c_void)>,
        arg: *mut std::ffi::c_void,
    );
    fn getenv(name: *const c_char) -> *const c_char;
}

/// Sets [`OPTIONS`], each unless its environment variable is set. Allocates nothing (it runs before
/// the first allocation).
extern "C" fn set_options() {
    for (option, env, value) in OPTIONS {
        // SAFETY: `getenv` reads a NUL-terminated name; nothing changes the environment this
        // early. `mi_option_set` takes any option number below `_mi_option_last` (it checks).
        #[allow(unsafe_code)]
        unsafe {
            if getenv(env.as_ptr()).is_null() {
                mi_option_set(option, value);
            }
        }
    }
}

/// The constructor: ELF runs every function in `.init_array` before `main` (the module is built on
/// Linux only).
#[used]
#[allow(unsafe_code)]
#[unsafe(link_section = ".init_array")]
static SET_OPTIONS: extern "C" fn() = set_options;

#[cfg(test)]
/// mimalloc's own listing of its version and options, one `option 'name': value` line each, as
/// `MIMALLOC_VERBOSE=1` prints it at start.
pub fn describe() -> String {
    #[allow(unsafe_code)]
    unsafe extern "C" fn collect(msg: *const c_char, arg: *mut std::ffi::c_void) {
        // SAFETY: mimalloc passes a NUL-terminated message and the `arg` given below, a `String`.
        let (msg, out) = unsafe { (std::ffi::CStr::from_ptr(msg), &mut *arg.cast::<String>()) };
        out.push_str(&msg.to_string_lossy());
    }
    let mut out = String::new();
    // SAFETY: `collect` matches `mi_output_fun`; `out` outlives the call.
    #[allow(unsafe_code)]
    unsafe {
        mi_options_print_out(Some(collect), (&raw mut out).cast());
    }
    out
}
