import CatroomXML
