// The audit event every writer benchmark appends: about 180 bytes as JSON.
'use strict';

function auditEvent(i) {
  return {
    actor: `user-${i % 1000}`,
    action: 'document.read',
    target: { type: 'document', id: `doc-${i}` },
    requestId: 'req-0123456789abcdef',
    ip: `192.0.2.${i % 255}`,
    meta: { tenant: 't-42', ok: true },
  };
}

/** Process facts a measurement reports besides its time. */
function peakRssMB() {
  return process.resourceUsage().maxRSS / 1024;
}

module.exports = { auditEvent, peakRssMB };
