-- guarded: one single-key write for a request, under the write guard (a SignatureNonce's
-- SET NX EX, BuySecretNo's ZREM reservation). KEYS[1]; ARGV: command, its arguments after the key.
-- -> {'OK', the command's reply}
return {'OK', redis.call(ARGV[1], KEYS[1], unpack(ARGV, 2))}
