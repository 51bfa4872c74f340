//! Docker's default device rules, and their two encodings: the text lines
//! of cgroup v1's `devices.allow`, and a BPF_PROG_TYPE_CGROUP_DEVICE
//! program for cgroup v2 (Documentation/admin-guide/cgroup-v2.rst "Device
//! controller"; the program's shape follows runc's devicefilter).

/// Block or character device, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    All,
    Block,
    Char,
}

/// One allow rule: kind, major, minor (`None` = any), access bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceRule {
    pub kind: DeviceKind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// Bits of [`MKNOD`], [`READ`], [`WRITE`].
    pub access: u32,
}

/// Access bits, as the kernel's BPF_DEVCG_ACC_* values.
pub const MKNOD: u32 = 1;
pub const READ: u32 = 2;
pub const WRITE: u32 = 4;
const RWM: u32 = MKNOD | READ | WRITE;

const fn rule(kind: DeviceKind, major: Option<u32>, minor: Option<u32>, access: u32) -> DeviceRule {
    DeviceRule {
        kind,
        major,
        minor,
        access,
    }
}

/// Docker's default allow list (moby `oci/devices_linux.go`, runc's
/// `AllowedDevices`): mknod of anything, use of the minimal /dev only.
pub const DEFAULT_ALLOWED: [DeviceRule; 12] = [
    rule(DeviceKind::Char, None, None, MKNOD),
    rule(DeviceKind::Block, None, None, MKNOD),
    rule(DeviceKind::Char, Some(1), Some(3), RWM), // /dev/null
    rule(DeviceKind::Char, Some(1), Some(5), RWM), // /dev/zero
    rule(DeviceKind::Char, Some(1), Some(7), RWM), // /dev/full
    rule(DeviceKind::Char, Some(1), Some(8), RWM), // /dev/random
    rule(DeviceKind::Char, Some(1), Some(9), RWM), // /dev/urandom
    rule(DeviceKind::Char, Some(5), Some(0), RWM), // /dev/tty
    rule(DeviceKind::Char, Some(5), Some(1), RWM), // /dev/console
    rule(DeviceKind::Char, Some(5), Some(2), RWM), // /dev/ptmx
    rule(DeviceKind::Char, Some(136), None, RWM),  // /dev/pts/*
    rule(DeviceKind::Char, Some(10), Some(200), RWM), // /dev/net/tun
];

impl DeviceRule {
    /// The cgroup v1 `devices.allow` line, e.g. "c 1:3 rwm".
    pub fn v1_line(&self) -> String {
        let kind = match self.kind {
            DeviceKind::All => 'a',
            DeviceKind::Block => 'b',
            DeviceKind::Char => 'c',
        };
        let num = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        let mut access = String::new();
        for (bit, c) in [(READ, 'r'), (WRITE, 'w'), (MKNOD, 'm')] {
            if self.access & bit != 0 {
                access.push(c);
            }
        }
        format!("{kind} {}:{} {access}", num(self.major), num(self.minor))
    }
}

/// One eBPF instruction (struct bpf_insn), before encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    /// The kernel's 8-byte layout: code, dst:4|src:4, off, imm.
    pub fn encode(&self) -> u64 {
        let regs = (self.dst & 0xf) | ((self.src & 0xf) << 4);
        let bytes = [
            [self.code, regs],
            self.off.to_le_bytes(),
            [self.imm.to_le_bytes()[0], self.imm.to_le_bytes()[1]],
            [self.imm.to_le_bytes()[2], self.imm.to_le_bytes()[3]],
        ]
        .concat();
        u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]))
    }
}

// Opcodes (linux/bpf.h, linux/bpf_common.h).
const LDX_MEM_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_MOV_X: u8 = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
const ALU32_AND_K: u8 = 0x54; // BPF_ALU | BPF_AND | BPF_K
const ALU32_RSH_K: u8 = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const ALU64_MOV_K: u8 = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
const JMP_JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const JMP_EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

// bpf_cgroup_dev_ctx: access_type (type | access << 16), major, minor.
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        dst,
        src,
        off,
        imm,
    }
}

/// The program: registers r2 = type, r3 = access, r4 = major, r5 = minor;
/// one block per rule that returns 1 (allow) on a match, else falls
/// through to the next; the end returns 0 (deny).
pub fn program(rules: &[DeviceRule]) -> Vec<Insn> {
    let mut prog = vec![
        insn(LDX_MEM_W, 2, 1, 0, 0),
        insn(ALU32_MOV_X, 3, 2, 0, 0),
        insn(ALU32_AND_K, 2, 0, 0, 0xffff),
        insn(ALU32_RSH_K, 3, 0, 0, 16),
        insn(LDX_MEM_W, 4, 1, 4, 0),
        insn(LDX_MEM_W, 5, 1, 8, 0),
    ];
    for rule in rules {
        prog.extend(rule_block(rule));
    }
    prog.push(insn(ALU64_MOV_K, 0, 0, 0, 0));
    prog.push(insn(JMP_EXIT, 0, 0, 0, 0));
    prog
}

/// One rule's block; each "no match" jump skips to the block's end.
fn rule_block(rule: &DeviceRule) -> Vec<Insn> {
    // (code, dst, src, imm) of the tests, each followed by "jne → end".
    let mut checks: Vec<Vec<Insn>> = Vec::new();
    match rule.kind {
        DeviceKind::All => {}
        DeviceKind::Block => checks.push(vec![insn(JMP_JNE_K, 2, 0, 0, DEV_BLOCK)]),
        DeviceKind::Char => checks.push(vec![insn(JMP_JNE_K, 2, 0, 0, DEV_CHAR)]),
    }
    if rule.access & RWM != RWM {
        // Requested access bits outside the rule's: no match.
        checks.push(vec![
            insn(ALU32_MOV_X, 1, 3, 0, 0),
            insn(ALU32_AND_K, 1, 0, 0, !(rule.access as i32)),
            insn(JMP_JNE_K, 1, 0, 0, 0),
        ]);
    }
    if let Some(major) = rule.major {
        checks.push(vec![insn(JMP_JNE_K, 4, 0, 0, major as i32)]);
    }
    if let Some(minor) = rule.minor {
        checks.push(vec![insn(JMP_JNE_K, 5, 0, 0, minor as i32)]);
    }
    let mut block: Vec<Insn> = checks.into_iter().flatten().collect();
    block.push(insn(ALU64_MOV_K, 0, 0, 0, 1));
    block.push(insn(JMP_EXIT, 0, 0, 0, 0));
    let len = block.len();
    for (i, ins) in block.iter_mut().enumerate() {
        if ins.code == JMP_JNE_K {
            // Relative to the next instruction: land just past the block.
            ins.off = (len - i - 1) as i16;
        }
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny interpreter of the subset we emit, to check the logic.
    fn run(prog: &[Insn], kind: i32, access: u32, major: u32, minor: u32) -> u64 {
        let ctx = [(kind as u32) | (access << 16), major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = prog[pc];
            let (d, s) = (i.dst as usize, i.src as usize);
            match i.code {
                LDX_MEM_W => r[d] = ctx[(i.off / 4) as usize] as u64,
                ALU32_MOV_X => r[d] = r[s] & 0xffff_ffff,
                ALU32_AND_K => r[d] = (r[d] as u32 & i.imm as u32) as u64,
                ALU32_RSH_K => r[d] = ((r[d] as u32) >> i.imm) as u64,
                ALU64_MOV_K => r[d] = i.imm as i64 as u64,
                JMP_JNE_K => {
                    if r[d] != i.imm as i64 as u64 {
                        pc += i.off as usize;
                    }
                }
                JMP_EXIT => return r[0],
                other => panic!("unexpected opcode {other:#x}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn default_rules_allow_the_minimal_dev_and_mknod_only() {
        let prog = program(&DEFAULT_ALLOWED);
        let rw = READ | WRITE;
        assert_eq!(run(&prog, DEV_CHAR, rw, 1, 3), 1, "/dev/null");
        assert_eq!(run(&prog, DEV_CHAR, rw, 136, 7), 1, "/dev/pts/7");
        assert_eq!(run(&prog, DEV_CHAR, rw, 1, 11), 0, "/dev/kmsg");
        assert_eq!(run(&prog, DEV_BLOCK, READ, 8, 0), 0, "/dev/sda");
        assert_eq!(run(&prog, DEV_BLOCK, MKNOD, 8, 0), 1, "mknod is allowed");
        assert_eq!(run(&prog, DEV_CHAR, MKNOD | READ, 1, 11), 0);
    }

    #[test]
    fn v1_lines_match_dockers() {
        let lines: Vec<String> = DEFAULT_ALLOWED.iter().map(DeviceRule::v1_line).collect();
        assert_eq!(lines[0], "c *:* m");
        assert_eq!(lines[1], "b *:* m");
        assert_eq!(lines[2], "c 1:3 rwm");
        assert_eq!(lines[10], "c 136:* rwm");
    }

    #[test]
    fn instructions_encode_little_endian() {
        let i = insn(JMP_JNE_K, 4, 0, 3, 136);
        assert_eq!(i.encode().to_le_bytes(), [0x55, 0x04, 3, 0, 136, 0, 0, 0]);
    }
}
