// Source-address allow-lists from comma-separated CIDRs or addresses, on node:net BlockList
// (built in, handles IPv4, IPv6 and IPv4-mapped IPv6 addresses).
import { BlockList, isIP } from 'node:net';

export interface AddressList {
  has(address: string): boolean;
  readonly text: string;
}

/** Parses `10.0.0.0/8, 192.0.2.7, 2001:db8::/32`; throws naming the first bad entry. */
export function parseCidrList(text: string): AddressList {
  const list = new BlockList();
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [addr, bits, extra] = raw.split('/');
    const family = addr ? isIP(addr) : 0;
    if (!addr || !family || extra !== undefined) throw new Error(`bad CIDR or address: ${raw}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      list.addAddress(addr, type);
      continue;
    }
    const prefix = Number(bits);
    if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128)) throw new Error(`bad CIDR prefix: ${raw}`);
    list.addSubnet(addr, prefix, type);
  }
  // Trunks are few and send every call from the same addresses: remember verdicts (bounded, so
  // INVITEs from many scanner addresses cannot grow it).
  const verdicts = new Map<string, boolean>();
  const check = (address: string): boolean => {
    // drachtio reports IPv6 sources in brackets on some transports.
    const a = address.replace(/^\[|\]$/g, '');
    const family = isIP(a);
    if (!family) return false;
    if (family === 6) {
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
      if (mapped?.[1]) return list.check(mapped[1], 'ipv4');
    }
    return list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  };
  return {
    text,
    has(address: string) {
      let v = verdicts.get(address);
      if (v === undefined) {
        v = check(address);
        if (verdicts.size >= 1024) verdicts.clear();
        verdicts.set(address, v);
      }
      return v;
    },
  };
}
