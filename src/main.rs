//! The browser entry point (`dsplay-web`, feature `web`): a panic hook and the mount, nothing
//! else. The app itself is `dsplay::ui`.

fn main() {
    console_error_panic_hook::set_once();
    dsplay::ui::mount();
}
