//! `h5sink`: record frames from standard input into HDF5, write a demo file, check
//! and list files. The command-line contract is DESIGN.md §6.

mod check;
mod demo;
mod ls;
mod record;

use clap::{Arg, ArgAction, Command};
use std::process::ExitCode;

fn cli() -> Command {
    Command::new("h5sink")
        .about("A pure-Rust, crash-safe HDF5 writer")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(true)
        .subcommand(
            Command::new("record")
                .about("Append raw little-endian C-order frames from standard input to an extendable dataset")
                .arg(Arg::new("out").required(true).value_name("OUT.h5"))
                .arg(Arg::new("dataset").long("dataset").required(true).value_name("PATH"))
                .arg(Arg::new("dtype").long("dtype").required(true).value_name("T")
                    .value_parser(["u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "f32", "f64"]))
                .arg(Arg::new("frame").long("frame").required(true).value_name("DIMS")
                    .help("frame shape, like 512x512, 1000 or 4x64x64"))
                .arg(Arg::new("chunk-frames").long("chunk-frames").value_name("N").default_value("1")
                    .value_parser(clap::value_parser!(u64).range(1..)))
                .arg(Arg::new("flush-every").long("flush-every").value_name("N")
                    .help("commit after every N frames (default: about once a second)")
                    .value_parser(clap::value_parser!(u64).range(1..)))
                .arg(Arg::new("durability").long("durability").value_name("LEVEL")
                    .value_parser(["process", "power"]).default_value("process"))
                .arg(Arg::new("profile").long("profile").value_parser(["compat", "latest"]).default_value("compat"))
                .arg(Arg::new("deflate").long("deflate").value_name("L").value_parser(clap::value_parser!(u8).range(0..=9)))
                .arg(Arg::new("shuffle").long("shuffle").action(ArgAction::SetTrue))
                .arg(Arg::new("fletcher32").long("fletcher32").action(ArgAction::SetTrue))
                .arg(Arg::new("bitshuffle").long("bitshuffle").action(ArgAction::SetTrue)
                    .help("bitshuffle + LZ4 filter (plugin 32008; h5py reads it with hdf5plugin)"))
                .arg(Arg::new("lz4").long("lz4").action(ArgAction::SetTrue)
                    .help("LZ4 filter (plugin 32004; h5py reads it with hdf5plugin)"))
                .arg(Arg::new("threads").long("threads").value_name("N").value_parser(clap::value_parser!(u64).range(1..)))
                .arg(Arg::new("append").long("append").action(ArgAction::SetTrue)
                    .help("reopen OUT.h5 and continue the dataset"))
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue)
                    .help("print {\"committed\": N} after each commit and a summary at the end")),
        )
        .subcommand(
            Command::new("demo")
                .about("Write a showcase file using every supported feature, and print what it holds")
                .arg(Arg::new("out").required(true).value_name("OUT.h5")),
        )
        .subcommand(
            Command::new("check")
                .about("Verify a file's structure and decode every filtered chunk; exit 0 when sound, 1 on problems")
                .long_about(
                    "Verify a file's structure: superblock, object headers and messages \
                     (signatures, versions, checksums), every address inside the stored end of \
                     file, chunk indexes (ordered, consistent with the dims, every entry found by \
                     a lookup), global heaps, no overlaps; then decode every chunk of every \
                     filtered dataset (deflate, shuffle, Fletcher-32, LZ4, bitshuffle). Prints \
                     what it checked, then each problem with the object path, structure, file \
                     offset and reason.\n\nExit status: 0 sound (notes are harmless), 1 problems \
                     found (or a structure this reader does not support), 2 usage error or \
                     unreadable path. The whole file is read into memory.",
                )
                .arg(Arg::new("file").required(true).value_name("FILE")),
        )
        .subcommand(
            Command::new("ls")
                .about("List the tree: shapes, types, layouts, chunks, filters and attributes")
                .arg(Arg::new("file").required(true).value_name("FILE"))
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue)
                    .help("print one JSON document")),
        )
}

fn main() -> ExitCode {
    let m = cli().get_matches();
    // check and ls choose their own exit codes (1: problems, 2: unreadable path)
    match m.subcommand() {
        Some(("check", a)) => return check::run(a.get_one::<String>("file").expect("required")),
        Some(("ls", a)) => {
            return ls::run(
                a.get_one::<String>("file").expect("required"),
                a.get_flag("json"),
            )
        }
        _ => {}
    }
    let r = match m.subcommand() {
        Some(("record", a)) => record::run(a),
        Some(("demo", a)) => demo::run(a.get_one::<String>("out").expect("required")),
        _ => unreachable!("clap requires a subcommand"),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("h5sink: error: {e}");
            ExitCode::FAILURE
        }
    }
}
