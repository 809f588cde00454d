//! Byte sizes: parsing operator input (`--swap-size 8G`) and printing sizes for people.

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * KIB;
pub const GIB: u64 = 1024 * MIB;
pub const TIB: u64 = 1024 * GIB;

/// Parses a size: a number (`8`, `1.5`) with an optional unit. Binary units are
/// `K`, `M`, `G`, `T` and `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024: `8G` = 8 GiB, as
/// the kernel and LVM read it); decimal ones are `kB`/`KB`, `MB`, `GB`, `TB` (powers of
/// 1000, as disk vendors label disks: `8GB` = 8 × 10⁹ bytes); `B` or nothing is bytes.
///
/// Hand-made rather than `bytesize`: that crate reads `8G` as decimal, while the
/// kernel command line (`pre-nixos.swap=8G`) has always meant GiB here, and the
/// arithmetic must refuse a value beyond `u64` instead of rounding a float.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(digits_end);
    if num.is_empty() || num == "." {
        return Err(format!("size {s:?}: expected a number such as 8G or 512M"));
    }
    let unit = suffix.trim();
    let mult: u64 = match unit {
        "" | "B" | "b" => 1,
        "K" | "k" | "KiB" | "kiB" => KIB,
        "M" | "m" | "MiB" => MIB,
        "G" | "g" | "GiB" => GIB,
        "T" | "t" | "TiB" => TIB,
        "kB" | "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        other => {
            return Err(format!(
                "size {s:?}: unknown unit {other:?} (binary K, M, G, T or KiB, MiB, GiB, TiB; \
                 decimal kB, MB, GB, TB)"
            ))
        }
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if frac.contains('.') || frac.len() > 9 {
        return Err(format!("size {s:?}: {num:?} is not a number"));
    }
    let too_big = || format!("size {s:?}: too large (at most {} bytes)", u64::MAX);
    // u128: int × mult and the fraction's share are exact, then checked into u64
    let int: u128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| too_big())?
    };
    let frac_value: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u128>()
            .map_err(|_| format!("size {s:?}: {num:?} is not a number"))?
            * u128::from(mult)
            / 10u128.pow(frac.len() as u32)
    };
    let bytes = int
        .checked_mul(u128::from(mult))
        .and_then(|b| b.checked_add(frac_value))
        .ok_or_else(too_big)?;
    u64::try_from(bytes).map_err(|_| too_big())
}

/// `4.0 TB`-style decimal size as vendors label disks, for summaries.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// `50.0 GiB`-style binary size, for LVs and VGs.
pub fn human_binary(b: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_sizes() {
        assert_eq!(parse_size("8G"), Ok(8 * GIB));
        assert_eq!(parse_size("8GiB"), Ok(8 * GIB));
        assert_eq!(parse_size("512M"), Ok(512 * MIB));
        assert_eq!(parse_size("1.5GiB"), Ok(3 * GIB / 2));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("8X").is_err());
        assert!(parse_size("G").is_err());
    }

    #[test]
    fn decimal_units_are_decimal() {
        assert_eq!(parse_size("8GB"), Ok(8_000_000_000));
        assert_eq!(parse_size("1kB"), Ok(1000));
        assert_eq!(parse_size("2TB"), Ok(2_000_000_000_000));
        assert_eq!(parse_size("1.5MB"), Ok(1_500_000));
    }

    #[test]
    fn sizes_beyond_u64_are_errors_not_rounded() {
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
        for s in [
            "18446744073709551616",
            "16777216T",
            "99999999999999999999999999999999999999999G",
        ] {
            let e = parse_size(s).unwrap_err();
            assert!(e.contains("too large"), "{s}: {e}");
        }
        assert!(parse_size("1.2.3G").is_err());
    }

    #[test]
    fn prints_sizes() {
        assert_eq!(human_bytes(4_000_787_030_016), "4.0 TB");
        assert_eq!(human_binary(50 * GIB), "50.0 GiB");
        assert_eq!(human_bytes(512), "512 B");
    }
}
