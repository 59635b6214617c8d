// sipp scenario builders for the SIP and media tests (and bench/media.ts), written per test
// (pcap paths, INFO digits and timings differ per case). Caller: INVITE with PCMU/PCMA/telephone-event 101, then DTMF by RFC 2833
// (a pcap from test/media/dtmf-pcap.ts) or SIP INFO, then either hangs up or waits for xline's BYE.
// Far end: rings, answers (or refuses), optionally plays a pcap, waits for BYE.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CALLER_FROM = '"Alice Caller" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]';

export interface CallerScript {
  /** RFC 2833 digits: a pcap to play once answered (sipp play_pcap_audio, in the background). */
  pcap?: string;
  /** SIP INFO digits (application/dtmf-relay), one INFO per key, after `infoAfterMs`. */
  info?: string;
  infoAfterMs?: number;
  /** After the DTMF: hold this long, then BYE (caller hangs up). */
  hangUpAfterMs?: number;
  /** Instead of hanging up: wait for xline's BYE (goodbye after a failed extension, B hung up). */
  expectBye?: boolean;
  /** SDP m= port, e.g. a UDP socket of the test that counts the RTP the caller receives. */
  rtpPort?: number;
  /** The final response expected for the INVITE (default 200). */
  expectStatus?: number;
  /** Early media then CANCEL: waits for 183, CANCELs after this long, expects 487. */
  cancelAfterMs?: number;
  /** Expect xline's re-INVITE handing the media over (B answered, call not recorded); answer it. */
  reinvite?: boolean;
  /** Once connected (after the hand-off, if any): wait this long, then re-INVITE offering PCMA only. */
  codecChangeAfterMs?: number;
}

export function callerScenario(dir: string, name: string, s: CallerScript): string {
  const status = s.expectStatus ?? 200;
  const mport = s.rtpPort !== undefined ? String(s.rtpPort) : '[media_port]';
  const steps: string[] = [];
  steps.push(`
  <send retrans="500" start_txn="invite">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${CALLER_FROM}
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:[caller]@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      User-Agent: xline-test-uac
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=alice 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=xline-a-offer
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio ${mport} RTP/AVP 0 8 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=ptime:20
      a=sendrecv

    ]]>
    <action>
      <ereg regexp=".*" search_in="hdr" header="Via:" assign_to="via"/>
    </action>
  </send>
  <recv response="100" optional="true" response_txn="invite"/>`);
  if (s.cancelAfterMs !== undefined) {
    steps.push(`
  <recv response="183" response_txn="invite"/>
  <pause milliseconds="${s.cancelAfterMs}"/>
  <send>
    <![CDATA[

      CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: [$via]
      From: ${CALLER_FROM}
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" optional="true"/>
  <recv response="487" response_txn="invite"/>
  <send ack_txn="invite">
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: [$via]
      From: ${CALLER_FROM}
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>`);
    return write(dir, name, steps, 'via');
  }
  steps.push(`
  <recv response="180" optional="true" response_txn="invite"/>
  <recv response="183" optional="true" response_txn="invite"/>`);
  if (status !== 200) {
    steps.push(`
  <recv response="${status}" response_txn="invite"/>
  <send ack_txn="invite">
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${CALLER_FROM}
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>`);
    return write(dir, name, steps);
  }
  steps.push(`
  <recv response="200" rrs="true" response_txn="invite"/>
  <send ack_txn="invite">
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${CALLER_FROM}
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>`);
  if (s.pcap) {
    steps.push(`
  <nop>
    <action>
      <exec play_pcap_audio="${s.pcap}"/>
    </action>
  </nop>`);
  }
  if (s.info) {
    steps.push(`\n  <pause milliseconds="${s.infoAfterMs ?? 600}"/>`);
    let cseq = 2;
    for (const [i, key] of [...s.info].entries()) {
      const signal = key === '#' ? '#' : key === '*' ? '*' : key;
      steps.push(`
  <send retrans="500">
    <![CDATA[

      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${CALLER_FROM}
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: ${cseq++} INFO
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal=${signal}
      Duration=160

    ]]>
  </send>
  <recv response="200"/>${i < s.info.length - 1 ? '\n  <pause milliseconds="250"/>' : ''}`);
    }
  }
  if (s.reinvite) {
    steps.push(`
  <recv request="INVITE"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[caller]@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=alice 53655765 2353687638 IN IP[local_ip_type] [local_ip]
      s=xline-a-reanswer
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio ${mport} RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=sendrecv

    ]]>
  </send>
  <recv request="ACK"/>`);
  }
  if (s.codecChangeAfterMs !== undefined) {
    steps.push(`
  <pause milliseconds="${s.codecChangeAfterMs}"/>
  <send retrans="500" start_txn="codec">
    <![CDATA[

      INVITE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${CALLER_FROM}
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 50 INVITE
      Contact: <sip:[caller]@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=alice 53655765 2353687639 IN IP[local_ip_type] [local_ip]
      s=xline-a-pcma
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio ${mport} RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=sendrecv

    ]]>
  </send>
  <recv response="100" optional="true" response_txn="codec"/>
  <recv response="200" response_txn="codec"/>
  <send ack_txn="codec">
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${CALLER_FROM}
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 50 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>`);
  }
  if (s.expectBye) {
    steps.push(`
  <recv request="BYE"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>`);
  } else {
    steps.push(`
  <pause milliseconds="${s.hangUpAfterMs ?? 1000}"/>
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${CALLER_FROM}
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 90 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>`);
  }
  return write(dir, name, steps);
}

export interface FarEndScript {
  /** Ring this long before answering. */
  ringMs?: number;
  /** Refuse with this status instead of answering (after ringing). */
  refuse?: number;
  /** Audio to send once answered (sipp play_pcap_audio). */
  pcap?: string;
  /** Hang up this long after answering (default: wait for BYE). */
  hangUpAfterMs?: number;
  /** SDP m= port (an RtpPeer of the test). */
  rtpPort?: number;
  /** Ring until CANCELed: 200 for the CANCEL, 487 for the INVITE. */
  awaitCancel?: boolean;
  /** Expect xline's re-INVITE handing the media over once answered; answer it. */
  reinvite?: boolean;
  /** Expect a re-INVITE offering PCMA (the caller's codec change, relayed); answer with PCMA. */
  codecReinvite?: boolean;
}

export function farEndScenario(dir: string, name: string, s: FarEndScript): string {
  const steps: string[] = [];
  steps.push(`
  <recv request="INVITE">
    <action>
      <ereg regexp="sips?:[^>]*" search_in="hdr" header="Contact:" assign_to="contact"/>
      <ereg regexp="[^ ].*" search_in="hdr" header="From:" assign_to="inv_from"/>
      <ereg regexp="[^ ].*" search_in="hdr" header="To:" assign_to="inv_to"/>
      <ereg regexp="[^ ].*" search_in="hdr" header="CSeq:" assign_to="inv_cseq"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="${s.ringMs ?? 200}"/>`);
  if (s.awaitCancel) {
    steps.push(`
  <recv request="CANCEL"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send>
    <![CDATA[

      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [$inv_cseq]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>`);
    return write(dir, name, steps);
  }
  if (s.refuse) {
    steps.push(`
  <send>
    <![CDATA[

      SIP/2.0 ${s.refuse} Refused
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>`);
    return write(dir, name, steps);
  }
  steps.push(`
  <send retrans="500">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=bob 1 1 IN IP[local_ip_type] [local_ip]
      s=xline-b-answer
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio ${s.rtpPort ?? '[media_port]'} RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=sendrecv

    ]]>
  </send>
  <recv request="ACK"/>`);
  if (s.pcap) {
    steps.push(`
  <nop>
    <action>
      <exec play_pcap_audio="${s.pcap}"/>
    </action>
  </nop>`);
  }
  // The far end's answer to a re-INVITE: a new origin version, PCMU or (codecReinvite) PCMA.
  const reanswer = (version: number, name: string, pt: 0 | 8) => `
  <recv request="INVITE"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=bob 1 ${version} IN IP[local_ip_type] [local_ip]
      s=${name}
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio ${s.rtpPort ?? '[media_port]'} RTP/AVP ${pt} 101
      a=rtpmap:${pt} ${pt === 0 ? 'PCMU' : 'PCMA'}/8000
      a=rtpmap:101 telephone-event/8000
      a=sendrecv

    ]]>
  </send>
  <recv request="ACK"/>`;
  if (s.reinvite) steps.push(reanswer(2, 'xline-b-reanswer', 0));
  if (s.codecReinvite) steps.push(reanswer(3, 'xline-b-pcma', 8));
  if (s.hangUpAfterMs !== undefined) {
    steps.push(`
  <pause milliseconds="${s.hangUpAfterMs}"/>
  <send retrans="500">
    <![CDATA[

      BYE [$contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$inv_to];tag=[pid]SIPpTag01[call_number]
      To: [$inv_from]
      Call-ID: [call_id]
      CSeq: 1 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>`);
    return write(dir, name, steps);
  }
  steps.push(`
  <recv request="BYE"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>`);
  return write(dir, name, steps);
}

function write(dir: string, name: string, steps: string[], vars?: string): string {
  const path = join(dir, `${name}.xml`);
  const used = vars ?? (steps.some((x) => x.includes('assign_to="contact"')) ? 'contact,inv_from,inv_to,inv_cseq' : steps.some((x) => x.includes('assign_to="via"')) ? 'via' : '');
  const refs = used ? `\n  <Reference variables="${used}"/>` : '';
  writeFileSync(
    path,
    `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n<scenario name="${name}">${steps.join('')}${refs}\n</scenario>\n`,
  );
  return path;
}
