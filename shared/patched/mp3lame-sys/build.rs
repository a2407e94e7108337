//! Builds libmp3lame from the sources under `lame-3.100/` with the `cc` crate, on every platform,
//! instead of running LAME's autotools `configure`. See PATCHED.md for why.

use std::path::Path;

const LAME_DIR: &str = "lame-3.100";

const SOURCES: &[&str] = &[
    "bitstream.c",
    "encoder.c",
    "fft.c",
    "gain_analysis.c",
    "id3tag.c",
    "lame.c",
    "mpglib_interface.c",
    "newmdct.c",
    "presets.c",
    "psymodel.c",
    "quantize.c",
    "quantize_pvt.c",
    "reservoir.c",
    "set_get.c",
    "tables.c",
    "takehiro.c",
    "util.c",
    "vbrquantize.c",
    "VbrTag.c",
    "version.c",
    "vector/xmm_quantize_sub.c",
];

fn main() {
    if std::env::var("DOCS_RS").is_ok_and(|docs| docs == "1") {
        return;
    }
    if std::env::var_os("CARGO_FEATURE_DECODER").is_some() {
        // The decoder (mpglib) is not part of this build; nothing in video2mp3 asks for it.
        panic!("mp3lame-sys (video2mp3's patched build): the `decoder` feature is not supported");
    }

    let lame = Path::new(LAME_DIR);
    let mut build = cc::Build::new();
    build
        .include(".") // config.h
        .include(lame.join("include"))
        .include(lame.join("libmp3lame"))
        .define("HAVE_CONFIG_H", None)
        .warnings(false)
        .extra_warnings(false);
    for source in SOURCES {
        let path = lame.join("libmp3lame").join(source);
        println!("cargo:rerun-if-changed={}", path.display());
        build.file(path);
    }
    println!("cargo:rerun-if-changed=config.h");

    // The flags LAME's configure picks for gcc and clang when it is not handed CFLAGS (the cc
    // crate always hands it some, which dropped them): fast float maths and unrolled loops.
    let compiler = build.get_compiler();
    if compiler.is_like_gnu() || compiler.is_like_clang() {
        build.flag("-ffast-math").flag("-funroll-loops").flag("-fomit-frame-pointer");
    }

    build.compile("mp3lame");
}
