#!/usr/bin/env python3
"""Writes storm.pcap for the docs/capture.md "Memory cap" example:
3,000 TCP connections (IRC, HTTP, unknown port) each sending 100 one-byte
segments, all open at once (round robin). Usage: one-byte-storm.py OUT.pcap"""
import struct, sys
N, SEG = 3000, 100
out = open(sys.argv[1], 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
t = [1700000000, 0]
def pkt(src, sp, dst, dp, seq, ack, fl, pl=b''):
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40 + len(pl), 1, 0x4000, 64, 6, 0, bytes(src), bytes(dst))
    tcp = struct.pack('!HHIIBBHHH', sp, dp, seq, ack, 0x50, fl, 65535, 0, 0)
    fr = bytes(range(12)) + b'\x08\x00' + ip + tcp + pl
    t[1] += 1
    out.write(struct.pack('<IIII', t[0] + t[1] // 1000000, t[1] % 1000000, len(fr), len(fr)) + fr)
S = [192, 0, 2, 1]
def payload(i):
    k = i % 3
    if k == 0:
        p = b'NICK b%d\r\nUSER b%d 0 0 :r\r\nPRIVMSG #c :' % (i, i)
    elif k == 1:
        p = b'GET /f%d.exe HTTP/1.1\r\nHost: x\r\nX-Pad: ' % i
    else:
        p = b''
    end = b'\r\n' if k == 0 else b'\r\n\r\n'
    return (p + b'x' * SEG)[:SEG - len(end)] + end if k < 2 else (b'hello world ' * 20)[:SEG]
flows = [([10, 0, i >> 8, i & 255], 40000, [6667, 80, 4444][i % 3], payload(i)) for i in range(N)]
for k in range(SEG + 6):
    for c, cp, sp, pl in flows:
        if k == 0: pkt(c, cp, S, sp, 1000, 0, 0x02)
        elif k == 1: pkt(S, sp, c, cp, 5000, 1001, 0x12)
        elif k == 2: pkt(c, cp, S, sp, 1001, 5001, 0x10)
        elif k < 3 + SEG: pkt(c, cp, S, sp, 1001 + k - 3, 5001, 0x18, pl[k - 3:k - 2])
        elif k == 3 + SEG: pkt(c, cp, S, sp, 1001 + SEG, 5001, 0x11)
        elif k == 4 + SEG: pkt(S, sp, c, cp, 5001, 1002 + SEG, 0x11)
        else: pkt(c, cp, S, sp, 1002 + SEG, 5002, 0x10)
