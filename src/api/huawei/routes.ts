// The Huawei interfaces served, one list per mode module (plugin.ts registers them all).
import { AX_INTERFACES } from './ax.js';
import { AXB_INTERFACES } from './axb.js';
import { AXE_INTERFACES } from './axe.js';
import { CALL_STOP_INTERFACES } from './call-stop.js';
import type { HuaweiInterface } from './plugin.js';
import { RECORD_INTERFACES } from './record.js';

export const HUAWEI_INTERFACES: HuaweiInterface[] = [...AXB_INTERFACES, ...AX_INTERFACES, ...AXE_INTERFACES, ...RECORD_INTERFACES, ...CALL_STOP_INTERFACES];
