//! DSD inside WavPack (WavPack 5's `DSD_FLAG` blocks): the 1-bit stream is stored raw or
//! compressed in one of two modes, "fast" (a byte-context model) and "high" (a bit-level model
//! with a noise-shaping predictor), each range-coded. This decodes the block's DSD bytes, after
//! the reference decoder (WavPack 5, `src/unpack_dsd.c`, BSD licence), checked with the block's
//! checksum; `crate::dsd` turns them into PCM as for DSF and DSDIFF.

/// `ID_DSD_BLOCK`, the sub-block holding a block's DSD data.
const ID_DSD_BLOCK: u8 = 0x0e;
/// The most DSD bytes per channel a block may hold (12 s of DSD64).
const MAX_BLOCK_SAMPLES: usize = 1 << 22;
/// Flags of the block header.
const MONO_FLAG: u32 = 4;
const FALSE_STEREO: u32 = 0x4000_0000;

/// The DSD bytes of one WavPack block, interleaved when it holds two channels, and how many
/// channels it holds; `None` when the block is damaged (its checksum disagrees, or its data runs
/// out).
pub(crate) fn decode_block(block: &[u8]) -> Option<(Vec<u8>, usize, u8)> {
    let (parsed, _) = oxideav_wavpack::parse_block(block).ok()?;
    let header = parsed.header();
    let flags = header.flags.raw;
    let samples = header.block_samples as usize;
    // A damaged header must not size the output: real blocks hold well under a second.
    if samples > MAX_BLOCK_SAMPLES {
        return None;
    }
    let payload = parsed
        .sub_blocks()
        .iter()
        .find(|s| s.id_byte & 0x3f == ID_DSD_BLOCK)?
        .payload;
    let (&shift, rest) = payload.split_first()?;
    let (&mode, data) = rest.split_first()?;
    if shift > 31 {
        return None;
    }
    let mono_data = flags & (MONO_FLAG | FALSE_STEREO) != 0;
    let coded_channels = if mono_data { 1 } else { 2 };
    let mut out = match mode {
        0 => (data.len() == samples * coded_channels).then(|| data.to_vec())?,
        1 => fast(data, samples * coded_channels, mono_data)?,
        3 => high(data, samples, mono_data)?,
        _ => return None,
    };
    // The checksum over the bytes as coded (before false stereo is undone).
    let crc = out.iter().fold(0xffff_ffffu32, |crc, &b| {
        crc.wrapping_add(crc << 1).wrapping_add(u32::from(b))
    });
    if crc != header.crc {
        return None;
    }
    let channels = if flags & MONO_FLAG != 0 { 1 } else { 2 };
    if flags & FALSE_STEREO != 0 {
        out = out.iter().flat_map(|&b| [b, b]).collect();
    }
    Some((out, channels, shift))
}

/// The range decoder both modes share.
struct Range<'a> {
    data: &'a [u8],
    at: usize,
    value: u32,
    low: u32,
    high: u32,
}

impl<'a> Range<'a> {
    fn new(data: &'a [u8], at: usize) -> Option<Self> {
        let bytes = data.get(at..at + 4)?;
        Some(Self {
            data,
            at: at + 4,
            value: u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            low: 0,
            high: 0xffff_ffff,
        })
    }

    /// Shifts in bytes while the top byte of `low` and `high` agree; `None` when the data ends.
    fn normalise(&mut self) -> Option<()> {
        while (self.low ^ self.high) & 0xff00_0000 == 0 {
            let byte = *self.data.get(self.at)?;
            self.at += 1;
            self.value = self.value << 8 | u32::from(byte);
            self.high = self.high << 8 | 0xff;
            self.low <<= 8;
        }
        Some(())
    }
}

/// The most history bits "fast" mode takes, and the lookup bytes per bin.
const MAX_HISTORY_BITS: u8 = 5;
const MAX_BYTES_PER_BIN: usize = 1280;

/// "Fast" mode: each byte is range-coded under a probability table chosen by the byte before
/// it (by the same channel's, in stereo).
fn fast(data: &[u8], total: usize, mono: bool) -> Option<Vec<u8>> {
    let (&history_bits, _) = data.split_first()?;
    if history_bits > MAX_HISTORY_BITS {
        return None;
    }
    let bins = 1usize << history_bits;
    let max_probability = *data.get(1)?;
    let mut at = 2;
    let mut probabilities = vec![[0u8; 256]; bins];
    if max_probability < 0xff {
        // Run-length coded: a code above the maximum is that many zeros less the maximum.
        let mut out = 0;
        let end = bins * 256;
        while out < end {
            let code = *data.get(at)?;
            at += 1;
            if code > max_probability {
                for _ in 0..(code - max_probability) {
                    if out < end {
                        probabilities[out / 256][out % 256] = 0;
                        out += 1;
                    }
                }
            } else if code != 0 {
                probabilities[out / 256][out % 256] = code;
                out += 1;
            } else {
                break;
            }
        }
        if out < end {
            return None;
        }
        // The table ends with a zero code.
        if data.get(at).is_some_and(|&c| c != 0) {
            return None;
        }
        at += 1;
    } else {
        let table = data.get(at..at + bins * 256)?;
        for (bin, chunk) in probabilities.iter_mut().zip(table.chunks_exact(256)) {
            bin.copy_from_slice(chunk);
        }
        at += bins * 256;
    }
    let mut summed = vec![[0u16; 256]; bins];
    let mut lookup: Vec<Vec<u8>> = vec![Vec::new(); bins];
    let mut total_summed = 0usize;
    for ((probability, summed), lookup) in probabilities.iter().zip(&mut summed).zip(&mut lookup) {
        let mut sum = 0u32;
        for (p, s) in probability.iter().zip(summed.iter_mut()) {
            sum += u32::from(*p);
            *s = u16::try_from(sum).ok()?;
        }
        if sum > 0 {
            total_summed += sum as usize;
            if total_summed > bins * MAX_BYTES_PER_BIN {
                return None;
            }
            for (value, &count) in probability.iter().enumerate() {
                lookup.extend(std::iter::repeat_n(value as u8, usize::from(count)));
            }
        }
    }
    let mut range = Range::new(data, at)?;
    let (mut p0, mut p1) = (0usize, 0usize);
    let mut out = Vec::with_capacity(total);
    for _ in 0..total {
        let sum = u32::from(summed[p0][255]);
        if sum == 0 {
            return None;
        }
        let mut mult = range.high.wrapping_sub(range.low) / sum;
        if mult == 0 {
            let bytes = data.get(range.at..range.at + 4)?;
            range.value = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            range.at += 4;
            range.low = 0;
            range.high = 0xffff_ffff;
            mult = range.high / sum;
            if mult == 0 {
                return None;
            }
        }
        let index = (range.value.wrapping_sub(range.low)) / mult;
        if index >= sum {
            return None;
        }
        let code = *lookup[p0].get(index as usize)?;
        out.push(code);
        if code != 0 {
            range.low = range
                .low
                .wrapping_add(u32::from(summed[p0][usize::from(code) - 1]).wrapping_mul(mult));
        }
        range.high = range
            .low
            .wrapping_add(u32::from(probabilities[p0][usize::from(code)]).wrapping_mul(mult))
            .wrapping_sub(1);
        if mono {
            p0 = usize::from(code) & (bins - 1);
        } else {
            p0 = p1;
            p1 = usize::from(code) & (bins - 1);
        }
        range.normalise()?;
    }
    Some(out)
}

const PTABLE_BITS: u32 = 8;
const PTABLE_BINS: usize = 1 << PTABLE_BITS;
const PTABLE_MASK: i32 = (PTABLE_BINS - 1) as i32;
const UP: i32 = 0x0100_00fe;
const DOWN: i32 = 0x0001_0000;
const DECAY: u32 = 8;
const PRECISION: u32 = 20;
const VALUE_ONE: i32 = 1 << PRECISION;
const PRECISION_USE: u32 = 12;
const RATE_S: u8 = 20;

/// "High" mode's starting probabilities.
fn ptable(rate_i: i32, rate_s: i32) -> [i32; PTABLE_BINS] {
    let mut table = [0i32; PTABLE_BINS];
    let mut value: i32 = 0x0080_8000;
    let mut rate = rate_i << 8;
    for _ in 0..((rate + 128) >> 8) {
        value += (DOWN - value) >> DECAY;
    }
    for i in 0..PTABLE_BINS / 2 {
        table[i] = value;
        table[PTABLE_BINS - 1 - i] = 0x0100_ffff - value;
        if value > 0x0001_0000 {
            rate += (rate * rate_s + 128) >> 8;
            for _ in 0..((rate + 64) >> 7) {
                value += (DOWN - value) >> DECAY;
            }
        }
    }
    table
}

/// One channel's predictor in "high" mode.
#[derive(Default, Clone, Copy)]
struct Filters {
    value: i32,
    filter0: i32,
    filter1: i32,
    filter2: i32,
    filter3: i32,
    filter4: i32,
    filter5: i32,
    filter6: i32,
    factor: i32,
    byte: u32,
}

impl Filters {
    fn predict(&mut self) {
        self.value = self
            .filter1
            .wrapping_sub(self.filter5)
            .wrapping_add(self.filter6.wrapping_mul(self.factor) >> 2);
    }

    /// After one decoded bit (`filter0` is -1 for a one, 0 for a zero).
    fn update(&mut self) {
        self.value = self.value.wrapping_add(self.filter6.wrapping_mul(8));
        self.byte = self.byte << 1 | (self.filter0 & 1) as u32;
        self.factor = self.factor.wrapping_add(
            (((self.value ^ self.filter0) >> 31) | 1)
                & ((self.value ^ self.value.wrapping_sub(self.filter6.wrapping_mul(16))) >> 31),
        );
        self.filter1 += ((self.filter0 & VALUE_ONE) - self.filter1) >> 6;
        self.filter2 += ((self.filter0 & VALUE_ONE) - self.filter2) >> 4;
        self.filter3 += (self.filter2 - self.filter3) >> 4;
        self.filter4 += (self.filter3 - self.filter4) >> 4;
        self.value = (self.filter4 - self.filter5) >> 4;
        self.filter5 = self.filter5.wrapping_add(self.value);
        self.filter6 += (self.value - self.filter6) >> 3;
        self.predict();
    }
}

/// "High" mode: each bit is range-coded under a probability chosen by the channel's predictor.
fn high(data: &[u8], samples: usize, mono: bool) -> Option<Vec<u8>> {
    let channels = if mono { 1 } else { 2 };
    if data.len() < if mono { 13 } else { 20 } {
        return None;
    }
    let (rate_i, rate_s) = (data[0], data[1]);
    if rate_s != RATE_S {
        return None;
    }
    let mut table = ptable(i32::from(rate_i), i32::from(rate_s));
    let mut filters = [Filters::default(); 2];
    let mut at = 2;
    for f in filters.iter_mut().take(channels) {
        let b = &data[at..at + 7];
        f.filter1 = i32::from(b[0]) << (PRECISION - 8);
        f.filter2 = i32::from(b[1]) << (PRECISION - 8);
        f.filter3 = i32::from(b[2]) << (PRECISION - 8);
        f.filter4 = i32::from(b[3]) << (PRECISION - 8);
        f.filter5 = i32::from(b[4]) << (PRECISION - 8);
        f.filter6 = 0;
        f.factor = i32::from(i16::from_le_bytes([b[5], b[6]]));
        at += 7;
    }
    let mut range = Range::new(data, at)?;
    let mut out = Vec::with_capacity(samples * channels);
    for _ in 0..samples {
        for f in filters.iter_mut().take(channels) {
            f.predict();
        }
        for _ in 0..8 {
            for f in filters.iter_mut().take(channels) {
                let slot = ((f.value >> (PRECISION - PRECISION_USE)) & PTABLE_MASK) as usize;
                let p = &mut table[slot];
                let split = range.low.wrapping_add(
                    (range.high.wrapping_sub(range.low) >> 8).wrapping_mul((*p >> 16) as u32),
                );
                if range.value <= split {
                    range.high = split;
                    *p += (UP - *p) >> DECAY;
                    f.filter0 = -1;
                } else {
                    range.low = split.wrapping_add(1);
                    *p += (DOWN - *p) >> DECAY;
                    f.filter0 = 0;
                }
                range.normalise()?;
                f.update();
            }
        }
        for f in filters.iter_mut().take(channels) {
            out.push((f.byte & 0xff) as u8);
            f.factor -= (f.factor + 512) >> 10;
        }
    }
    Some(out)
}
