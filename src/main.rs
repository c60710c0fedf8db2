//! The browser entry point (`dsplay-web`, feature `web`): a panic hook and the start (the app
//! on a page, the paint replica in the paint worker), nothing else. It all lives in `dsplay::ui`.

fn main() {
    console_error_panic_hook::set_once();
    dsplay::ui::start();
}
