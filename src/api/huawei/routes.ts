// The Huawei interfaces served, one list per mode module (plugin.ts registers them all).
import { AXB_INTERFACES } from './axb.js';
import type { HuaweiInterface } from './plugin.js';

export const HUAWEI_INTERFACES: HuaweiInterface[] = [...AXB_INTERFACES];
