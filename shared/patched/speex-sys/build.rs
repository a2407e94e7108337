//! Builds libspeex 1.2.1 from the sources under `speex/` with the `cc` crate, in its floating
//! point configuration (what distributions ship), as the published speex-sys 0.4.0 does; only
//! its bindgen step is gone (src/lib.rs is written by hand). See PATCHED.md.

use std::path::Path;

/// The library's sources: the decoder, and the encoder parts its mode tables refer to.
const SOURCES: &[&str] = &[
    "bits.c",
    "cb_search.c",
    "exc_5_64_table.c",
    "exc_5_256_table.c",
    "exc_8_128_table.c",
    "exc_10_16_table.c",
    "exc_10_32_table.c",
    "exc_20_32_table.c",
    "filters.c",
    "gain_table.c",
    "gain_table_lbr.c",
    "hexc_10_32_table.c",
    "hexc_table.c",
    "high_lsp_tables.c",
    "kiss_fft.c",
    "kiss_fftr.c",
    "lpc.c",
    "lsp.c",
    "lsp_tables_nb.c",
    "ltp.c",
    "modes.c",
    "modes_wb.c",
    "nb_celp.c",
    "quant_lsp.c",
    "sb_celp.c",
    "smallft.c",
    "speex.c",
    "speex_callbacks.c",
    "speex_header.c",
    "stereo.c",
    "vbr.c",
    "vorbis_psy.c",
    "vq.c",
    "window.c",
];

fn main() {
    let root = Path::new("speex");
    let mut build = cc::Build::new();
    build
        .include(root.join("include"))
        .define("FLOATING_POINT", None)
        .define("EXPORT", "")
        .warnings(false)
        .extra_warnings(false);
    for source in SOURCES {
        let path = root.join("libspeex").join(source);
        println!("cargo:rerun-if-changed={}", path.display());
        build.file(path);
    }
    build.compile("speex");
}
