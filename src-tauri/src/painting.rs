//! How the window's web view paints its page.

/// WebKitGTK's web process reads this when it starts.
const CPU_PAINTING: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";

/// Paints the page on the CPU. WebKitGTK paints with Skia on the GPU by default, and that
/// keeps about 28 MiB more in the web process for this page (textures and glyph atlases;
/// 7 MiB for a bare window's one line, BENCHMARKS.md), while a page of text, borders and
/// small icons gains nothing from it. CPU painting is WebKit's own choice for weak GPUs.
/// A person's own setting of the variable wins. `run` calls it first, before any thread
/// starts: setting the environment is only sound then.
pub fn paint_on_the_cpu() {
    if cfg!(target_os = "linux") && std::env::var_os(CPU_PAINTING).is_none() {
        std::env::set_var(CPU_PAINTING, "1");
    }
}
