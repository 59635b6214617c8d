// The bind hot path parses two numbers per request, and libphonenumber's full parse costs tens of
// microseconds each. Most API traffic carries Chinese mobiles in national form (13800000001),
// whose canonical form is the input itself. This checks that shape against libphonenumber's own
// CN mobile pattern (same metadata, so the same verdict) and leaves everything else to
// canonicalNumber(). A unit test proves both agree.
import { Metadata } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/max/metadata';
import { canonicalNumber, type Canonical } from './numbers.js';

function cnMobilePattern(): RegExp | undefined {
  try {
    const m = new Metadata(metadata);
    m.selectNumberingPlan('CN');
    // type() is public in libphonenumber-js but missing from its .d.ts
    const plan = m.numberingPlan as unknown as { type(t: string): { pattern(): string; possibleLengths(): number[] } | undefined };
    const mobile = plan.type('MOBILE');
    const pattern = mobile?.pattern();
    return pattern ? new RegExp(`^(?:${pattern})$`) : undefined;
  } catch {
    return undefined; // a future metadata layout: every number takes the full parse
  }
}

const CN_MOBILE = cnMobilePattern();

export const fastPathActive = CN_MOBILE !== undefined;

/** canonicalNumber() with a shortcut for national-form CN mobiles when the home country is CN. */
export function canonicalNumberFast(input: string, home: string): Canonical | undefined {
  // CN mobiles have no trunk prefix: national significant number = national form = canonical.
  if (home === 'CN' && CN_MOBILE && input.length === 11 && CN_MOBILE.test(input)) return input as Canonical;
  return canonicalNumber(input, home as Parameters<typeof canonicalNumber>[1]);
}
