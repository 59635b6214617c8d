// Reading bindings: one by SubsId, the SubsId of X's binding with a number (QuerySubsId), and the
// SIP side's lookup of an INVITE (caller, X, extension) in one Redis round trip. Read-only
// scripts on X's keys (lua/get.lua, find.lua, lookup.lua); expired bindings are never returned.
import type { Binding } from '../domain/binding.js';
import type { Lookup } from '../domain/route.js';
import { SEP, formatSubsId, hasControlChars, isExtension, isStoreNumber, subsIdOnX, unpackCallback, unpackRecord } from './codec.js';
import type { ScriptRunner } from './script-runner.js';

export class BindingReads {
  constructor(private readonly run: ScriptRunner) {}

  async get(poolKey: string, x: string, subsId: string): Promise<Binding | undefined> {
    const p = subsIdOnX(x, subsId);
    if (!p) return undefined;
    const r = await this.run.guard('get', () => this.run.perX('get', p.x, poolKey, p.seq));
    return r[0] === 'OK' ? unpackRecord(String(r[1]), p.x, p.seq, poolKey) : undefined;
  }

  async findSubsId(poolKey: string, x: string, number?: string): Promise<string | undefined> {
    if (!isStoreNumber(x) || (number !== undefined && number !== '' && !isStoreNumber(number))) return undefined;
    const r = await this.run.guard('findSubsId', () => this.run.perX('find', x, poolKey, number ?? ''));
    return r[0] === 'OK' ? formatSubsId(x, String(r[1])) : undefined;
  }

  async lookup(caller: string, x: string, extension?: string): Promise<Lookup> {
    if (!isStoreNumber(x) || typeof caller !== 'string' || hasControlChars(caller)) return { kind: 'none' };
    const ext = extension && isExtension(extension) ? extension : '';
    if (extension && !ext) return { kind: 'none' };
    const r = await this.run.perX('lookup', x, ext ? caller + SEP + ext : caller).catch((e: unknown) => {
      // one lookup per INVITE: the INVITE is answered 503
      this.run.outage.requestFailed('INVITE');
      return Promise.reject(this.run.failure('lookup', e));
    });
    switch (r[0]) {
      case 'match':
        return {
          kind: 'match',
          role: r[1] as 'A' | 'B' | 'N',
          binding: unpackRecord(String(r[3]), x, String(r[2]), String(r[4])),
          now: Number(r[5]),
          ...(r[6] ? { lastCaller: unpackCallback(String(r[6])) } : {}),
        };
      case 'stranger':
        return { kind: 'stranger' };
      case 'need-extension':
        return { kind: 'need-extension', poolKey: String(r[1]), ...(r[2] ? { extensionDigits: Number(r[2]) } : {}) };
      default:
        return { kind: 'none' };
    }
  }
}
