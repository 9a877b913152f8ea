/**
 * The examples of koupleless-protocol.md ("Examples"), verbatim. Parsers and the base simulator are
 * checked against these, so the doc, the codec and the simulator cannot drift apart.
 */
export const HEARTBEAT_TOPIC = 'koupleless_default/10.1.0.45/base/heart';
export const HEARTBEAT =
  '{"publishTimestamp":1727000000123,"data":{"baseMetadata":{"identity":"10.1.0.45","name":"base","version":"1.0.0","clusterName":"default"},"localIP":"10.1.0.45","localHostName":"base-7d9f8c6b5-x2kq9","port":0,"state":"activated"}}';

export const INSTALL_TOPIC = 'koupleless_default/10.1.0.45/installBiz';
export const INSTALL = '{"bizName":"biz1","bizVersion":"0.0.1","bizUrl":"https://example.invalid/biz1-0.0.1-ark-biz.jar"}';

export const INSTALL_REPLY_TOPIC = 'koupleless_default/10.1.0.45/base/bizOperation';
export const INSTALL_REPLY =
  '{"publishTimestamp":1727000005000,"data":{"command":"installBiz","bizName":"biz1","bizVersion":"0.0.1","response":{"code":"SUCCESS","data":{"code":"SUCCESS","message":"Install Biz: biz1:0.0.1 success","bizInfos":[{"bizName":"biz1","bizVersion":"0.0.1","bizState":"ACTIVATED"}],"elapsedSpace":5242880}}}}';

/** The `response` of a failed install reply. */
export const FAILED_INSTALL_RESPONSE =
  '{"code":"FAILED","message":"install biz not success!","data":{"code":"REPEAT_BIZ","message":"Biz: biz1:0.0.1 has been installed or registered."}}';

export const SIMPLE_BIZ_TOPIC = 'koupleless_default/10.1.0.45/base/simpleBiz';
export const SIMPLE_BIZ =
  '{"publishTimestamp":1727000002000,"data":[{"name":"biz1","version":"0.0.1","state":"activated","latestStateRecord":{"changeTime":1726999990000,"state":"ACTIVATED","reason":"STARTED","message":"Biz start succeed"}}]}';
