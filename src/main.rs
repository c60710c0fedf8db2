//! The browser entry point (`dsplay-web`, feature `web`): a panic hook and the start (the app
//! on a page, the paint replica in the paint worker), nothing else. It all lives in `dsplay::ui`.

// The default allocator (dlmalloc) is larger and slower in wasm.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

fn main() {
    console_error_panic_hook::set_once();
    dsplay::ui::start();
}
