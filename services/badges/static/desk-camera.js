// Scanning with a tablet's camera, where the browser can read QR codes itself
// (BarcodeDetector); elsewhere the USB scanner (a keyboard typing into the scan field) is
// the way, and the camera button stays hidden.
const SAME_CODE_AGAIN_MS = 4000;  // a code held in front of the camera is one scan

export function cameraAvailable() {
  return "BarcodeDetector" in window && Boolean(navigator.mediaDevices?.getUserMedia);
}

// Start the camera in ``video``; ``onCode(text)`` for each QR code seen. Returns stop().
export async function startCamera(video, onCode) {
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  const stream = await navigator.mediaDevices.getUserMedia(
    { video: { facingMode: "environment" }, audio: false });
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  let running = true;
  let last = "";
  let lastSeen = 0;
  const look = async () => {
    if (!running) { return; }
    try {
      for (const code of await detector.detect(video)) {
        const now = Date.now();
        if (code.rawValue && (code.rawValue !== last || now - lastSeen > SAME_CODE_AGAIN_MS)) {
          last = code.rawValue;
          lastSeen = now;
          await onCode(code.rawValue);
        }
      }
    } catch {
      // a frame the detector could not read: try the next one
    }
    if (running) { video.requestVideoFrameCallback(look); }
  };
  video.requestVideoFrameCallback(look);
  return () => {
    running = false;
    stream.getTracks().forEach((track) => track.stop());
    video.srcObject = null;
    video.hidden = true;
  };
}
