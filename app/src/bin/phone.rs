//! The phone pages' bundle (`app/phone.html`, served for every path under `/m/`).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: a page's wasm runs on the browser's one thread, and it has no other.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

fn main() {
    leptos::mount::mount_to_body(qrgate_app::phone::PhoneApp);
}
