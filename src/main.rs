//! The browser entry point (`dsplay-web`, feature `web`): a panic hook and the start (the app
//! on a page, the paint replica in the paint worker), nothing else. It all lives in `dsplay::ui`.

// The default allocator (dlmalloc) is larger and slower in wasm.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

fn main() {
    std::panic::set_hook(Box::new(report_panic));
    dsplay::ui::start();
}

/// Says in the console where the page panicked, and why when the reason is plain text. (The
/// full message would bring in the formatting of every panic's arguments: about 1 KB gzipped.)
fn report_panic(info: &std::panic::PanicHookInfo) {
    let why = info.payload().downcast_ref::<&str>().copied().unwrap_or("");
    let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
    web_sys::console::error_1(&format!("dsplay panicked at {file}:{line}: {why}").into());
}
